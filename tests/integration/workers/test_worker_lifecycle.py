"""The supervisor of `serve --workers N`: restarts a killed worker, gives up on workers that
cannot start, stops everything on SIGTERM; `--workers 1` is the single-process gateway; and
/metrics is served by each worker on its own port."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from gwtest.ports import free_ports
from gwtest.procs import PYTHON, free_port, gateway, stdio_upstream, stop, wait_http
from gwtest.raw import body_of, open_session
from gwtest.workers import (
    DEADLINE_S,
    fresh_call,
    result_text,
    session_on,
    until,
    worker_client,
    worker_gateway,
)

pytestmark = pytest.mark.integration

UP = "feat"
CONFIG = {"upstreams": {UP: stdio_upstream(UP, timeout_s=30)}}


def _worker_index(pid: int) -> int:
    """A worker's index, from the environment the supervisor gave it."""
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    raw = next(v for v in environ if v.startswith(b"MCPWARDEN_WORKER="))
    return int(raw.split(b"=", 1)[1].split(b"/")[0])


def test_a_killed_worker_is_restarted_and_serves_new_sessions() -> None:
    with worker_gateway(CONFIG) as gw:
        url = gw.url(UP)
        before = until(lambda: gw.worker_pids() if len(gw.worker_pids()) == 2 else None, "two workers")
        victim = before[1]
        index = _worker_index(victim)
        old = session_on(gw, url, index)
        os.kill(victim, signal.SIGKILL)
        until(lambda: victim not in gw.worker_pids() and len(gw.worker_pids()) == 2, "a replacement worker")
        assert f"worker w{index} exited" in gw.log()
        # The replacement mints sessions and serves them, also through its sibling.
        sid = session_on(gw, url, index)
        assert result_text(fresh_call(url, sid, "echo", {"text": "back"})) == "feat: back"
        # The dead worker's session went with it: 404, the answer that makes a client re-initialize.
        assert until(lambda: fresh_call(url, old, "echo", {"text": "old"}).status_code == 404, "404 for old")
        assert gw.proc.poll() is None


def test_workers_that_cannot_start_make_serve_exit_with_their_error(tmp_path: Path) -> None:
    # Each worker's own audit file is unreadable as a chain: the worker refuses to start.
    for index in (0, 1):
        (tmp_path / f"audit.w{index}.jsonl").write_text("not json{\n")
    with worker_gateway(CONFIG, workdir=tmp_path, wait=False) as gw:
        code = gw.proc.wait(DEADLINE_S)
        assert code == 2, gw.log()
        assert "before it was ready" in gw.log()
        assert "cannot open the audit file" in gw.log()


def test_sigterm_stops_the_supervisor_and_every_worker() -> None:
    with worker_gateway(CONFIG) as gw:
        pids = until(lambda: gw.worker_pids() if len(gw.worker_pids()) == 2 else None, "two workers")
        gw.proc.send_signal(signal.SIGTERM)  # the supervisor alone: it forwards the signal
        assert gw.proc.wait(DEADLINE_S) == 0, gw.log()
        for pid in pids:
            until(lambda pid=pid: not Path(f"/proc/{pid}").exists() or _zombie(pid), f"worker {pid} to exit")
        for index in (0, 1):
            assert gw.audit(index)[-1]["event"] == "gateway.stop"


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_one_worker_is_the_single_process_gateway_unchanged(tmp_path: Path) -> None:
    port = free_port()
    cfg = tmp_path / "gateway.yaml"
    audit = tmp_path / "audit.jsonl"
    cfg.write_text(yaml.safe_dump({**CONFIG, "audit": {"path": str(audit), "fsync": "never"}}))
    proc = subprocess.Popen(
        [PYTHON, "-m", "mcpwarden", "serve", "-c", str(cfg), "--port", str(port), "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=tmp_path,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=DEADLINE_S, proc=proc)
        assert not httpx.get(f"http://127.0.0.1:{port}/healthz").json()["replica"].endswith("-w0")
        with httpx.Client(timeout=30) as client:
            sid = open_session(client, f"http://127.0.0.1:{port}/servers/{UP}/mcp")
        assert ".w" not in sid
    finally:
        stop(proc)
    assert not list(tmp_path.glob("audit.w*"))
    start = next(line for line in audit.read_text().splitlines() if '"gateway.start"' in line)
    assert '"workers"' not in start


def test_listen_workers_in_the_config_file_starts_that_many_workers(tmp_path: Path) -> None:
    config = {**CONFIG, "listen": {"workers": 2}}
    with gateway(config, workdir=tmp_path) as gw:
        until(lambda: (tmp_path / "audit.w1.jsonl").exists(), "worker w1's audit chain")
        replicas = []
        for index in (0, 1):
            with worker_client(gw.proc.pid, index) as client:
                replicas.append(client.get(f"{gw.base}/healthz").json()["replica"])
        assert [r[-3:] for r in replicas] == ["-w0", "-w1"]


def _requests_total(metrics: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("mcpwarden_requests_total{") and 'method="tools/call"' in line
    )


def test_metrics_are_per_worker_on_consecutive_ports_and_add_up() -> None:
    port = free_ports(2)
    config = {**CONFIG, "metrics": {"listen": f"127.0.0.1:{port}"}}
    with worker_gateway(config) as gw:
        url = gw.url(UP)
        sids = [session_on(gw, url, 0), session_on(gw, url, 1)]
        calls = 0
        for sid in sids:
            for _ in range(3):
                assert result_text(fresh_call(url, sid, "echo", {"text": "m"})) == "feat: m"
                calls += 1
        scrapes = [f"http://127.0.0.1:{port + i}/metrics" for i in (0, 1)]

        def counted() -> bool:
            return sum(_requests_total(httpx.get(s).text) for s in scrapes) == calls

        until(counted, "both workers' request counters to add up to the calls made")
        # Each worker counts the calls of its own sessions only.
        assert [_requests_total(httpx.get(s).text) for s in scrapes] == [3.0, 3.0]


def test_sighup_to_the_supervisor_reloads_every_worker() -> None:
    with worker_gateway(CONFIG) as gw:
        url = gw.url(UP)
        sids = [session_on(gw, url, 0), session_on(gw, url, 1)]
        reloaded = yaml.safe_load(gw.config_path.read_text())
        reloaded["upstreams"][UP]["tools"] = {"deny": ["echo"]}
        gw.config_path.write_text(yaml.safe_dump(reloaded))
        gw.proc.send_signal(signal.SIGHUP)  # the supervisor alone: it forwards the signal
        for sid in sids:

            def denied(sid: str = sid) -> bool:
                return "error" in body_of(fresh_call(url, sid, "echo", {"text": "x"}))

            until(denied, f"the new rule in the worker holding {sid[-3:]}")
        for index in (0, 1):
            assert any(r["event"] == "config.reload" and r["decision"] == "allow" for r in gw.audit(index))
