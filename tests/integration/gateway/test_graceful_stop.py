"""Stopping the gateway with calls in flight (SIGTERM from a service manager, Ctrl-C in a
terminal): each call finishes within the drain deadline or gets a JSON-RPC error, GET streams
end cleanly, and the gateway prints no traceback. A real gateway process, a real slow tool."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml

from gwtest.procs import PYTHON, free_port, stdio_upstream, stop, wait_http
from gwtest.raw import body_of, open_session, post

pytestmark = pytest.mark.integration

VERSION = "2025-06-18"


def read_until(proc: subprocess.Popen[bytes], needle: str, timeout: float) -> str:
    """What the process wrote on stderr until `needle` appears (or the timeout passes)."""
    assert proc.stderr is not None
    fd, seen, deadline = proc.stderr.fileno(), b"", time.monotonic() + timeout
    while needle.encode() not in seen and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            seen += chunk
    return seen.decode(errors="replace")


@dataclass
class Running:
    url: str
    proc: subprocess.Popen[bytes]
    audit: Path


@contextlib.contextmanager
def gateway(tmp_path: Path, drain_s: float) -> Iterator[Running]:
    cfg = tmp_path / "gateway.yaml"
    audit = tmp_path / "audit.jsonl"
    cfg.write_text(
        yaml.safe_dump(
            {
                "audit": {"path": str(audit), "fsync": "never"},
                "store": {"path": str(tmp_path / "store.sqlite3")},
                # Long enough that only the drain deadline can end the slow call.
                "upstreams": {"feat": stdio_upstream("feat", timeout_s=600)},
            }
        )
    )
    port = free_port()
    proc = subprocess.Popen(
        [PYTHON, "-m", "mcpwarden", "serve", "-c", str(cfg), "--port", str(port),
         "--drain-timeout", str(drain_s)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc=proc, timeout=60)
        yield Running(f"http://127.0.0.1:{port}/servers/feat/mcp", proc, audit)
    finally:
        stop(proc)


def call_in_background(url: str, sid: str, seconds: float) -> tuple[threading.Thread, dict[str, Any]]:
    """Start a tools/call of `hang` and return (thread, outcome dict filled when it ends)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        with httpx.Client(timeout=120) as client, contextlib.suppress(httpx.TransportError):
            # A transport error (the test killed the gateway) leaves the outcome empty.
            resp = post(
                client, url,
                {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                 "params": {"name": "hang", "arguments": {"seconds": seconds}}},
                **{"mcp-session-id": sid, "mcp-protocol-version": VERSION},
            )  # fmt: skip
            outcome["status"] = resp.status_code
            outcome["body"] = body_of(resp)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def wait_for_call_upstream(audit: Path, timeout: float = 60) -> None:
    """The features server's `hang` says on stderr that it started, which the gateway audits
    (`upstream.stderr`): the call is in flight once that line shows up there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if audit.exists() and b"hang: started" in audit.read_bytes():
            return
        time.sleep(0.05)
    raise AssertionError("the call never reached the upstream")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_a_call_still_running_at_the_deadline_gets_a_json_rpc_error(
    tmp_path: Path, sig: signal.Signals
) -> None:
    with gateway(tmp_path, drain_s=1.0) as gw, httpx.Client(timeout=60) as client:
        sid = open_session(client, gw.url, VERSION)
        thread, outcome = call_in_background(gw.url, sid, seconds=600)
        wait_for_call_upstream(gw.audit)
        gw.proc.send_signal(sig)
        thread.join(60)
        gw.proc.wait(60)
        stderr = gw.proc.stderr.read().decode() if gw.proc.stderr else ""
    assert outcome["status"] == 200
    assert outcome["body"]["id"] == 7
    assert outcome["body"]["error"]["data"]["reason"] == "gateway.shutdown"
    assert "Traceback" not in stderr and "Exception" not in stderr, stderr
    records = [orjson.loads(line) for line in gw.audit.read_bytes().splitlines()]
    assert any(r.get("reason") == "gateway.shutdown" for r in records)
    assert records[-1]["event"] == "gateway.stop"


def test_a_call_that_ends_within_the_deadline_gets_its_result(tmp_path: Path) -> None:
    with gateway(tmp_path, drain_s=60.0) as gw, httpx.Client(timeout=60) as client:
        sid = open_session(client, gw.url, VERSION)
        thread, outcome = call_in_background(gw.url, sid, seconds=3)
        wait_for_call_upstream(gw.audit)
        gw.proc.send_signal(signal.SIGTERM)
        thread.join(60)
        gw.proc.wait(60)
        stderr = gw.proc.stderr.read().decode() if gw.proc.stderr else ""
    assert outcome["body"]["result"]["content"][0]["text"].endswith("woke up") or "woke up" in str(
        outcome["body"]["result"]
    )
    assert "Traceback" not in stderr, stderr


def test_get_streams_end_cleanly_on_stop(tmp_path: Path) -> None:
    with gateway(tmp_path, drain_s=1.0) as gw, httpx.Client(timeout=60) as client:
        sid = open_session(client, gw.url, VERSION)
        headers = {"accept": "text/event-stream", "mcp-session-id": sid, "mcp-protocol-version": VERSION}
        with client.stream("GET", gw.url, headers=headers) as stream:
            assert stream.status_code == 200
            gw.proc.send_signal(signal.SIGTERM)
            body = b"".join(stream.iter_bytes())  # returns: the server ended the stream
        gw.proc.wait(60)
        stderr = gw.proc.stderr.read().decode() if gw.proc.stderr else ""
    assert body.startswith(b":")
    assert "Traceback" not in stderr, stderr


def test_a_draining_gateway_takes_no_new_connection_while_a_call_is_still_in_flight(tmp_path: Path) -> None:
    """SIGTERM stops new sessions at once (the listener closes, so a balancer's health check
    fails and new sessions go to another replica) while calls in flight keep their deadline."""
    with gateway(tmp_path, drain_s=120.0) as gw, httpx.Client(timeout=60) as client:
        sid = open_session(client, gw.url, VERSION)
        thread, outcome = call_in_background(gw.url, sid, seconds=600)
        wait_for_call_upstream(gw.audit)
        gw.proc.send_signal(signal.SIGTERM)
        base = gw.url.split("/servers/")[0]
        deadline = time.monotonic() + 60
        refused = False
        while not refused and time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/readyz", timeout=5)
            except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError):
                # Refused, or reset unanswered: a connection the kernel completed just before the
                # listener closed sits in its queue and is reset when it closes, never served.
                refused = True
            else:
                time.sleep(0.05)
        assert refused, "the gateway still accepted connections while draining"
        # The call in flight is neither answered nor cut: it has up to 120 s.
        assert thread.is_alive() and outcome == {}
        assert gw.proc.poll() is None
        # The listener closes as soon as the signal lands; the drain's announcement follows
        # within a moment (the drain watcher polls): read it before the process is killed.
        said = read_until(gw.proc, "stopping (calls in flight get up to 120 s)", timeout=30)
        os.killpg(gw.proc.pid, signal.SIGKILL)
        gw.proc.wait(30)
        thread.join(60)
    assert outcome == {}
    assert "stopping (calls in flight get up to 120 s)" in said, said
