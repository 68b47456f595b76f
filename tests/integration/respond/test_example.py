"""`examples/respond.yaml`: what the issue asks of it, that it starts with no receiver
listening, and that every sink delivers a real call's records to real receivers."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gwtest.client import sdk_session
from gwtest.procs import PYTHON, ROOT, free_port, stop, wait_http
from gwtest.receivers import HttpReceiver, SyslogReceiver, decode_otlp_logs, decode_otlp_traces

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

EXAMPLE = ROOT / "examples" / "respond.yaml"


def test_example_points_every_sink_at_the_loopback_receivers_the_issue_names() -> None:
    config = yaml.safe_load(EXAMPLE.read_text())
    sinks = {s["type"]: s for s in config["audit"]["sinks"]}
    assert (sinks["syslog"]["host"], sinks["syslog"]["port"], sinks["syslog"]["transport"]) == (
        "127.0.0.1",
        5514,
        "udp",
    )
    assert sinks["webhook"]["url"] == "http://127.0.0.1:8088/hook"
    assert sinks["otlp"]["endpoint"] == "http://127.0.0.1:4318/v1/logs"
    assert config["metrics"]["listen"] == "127.0.0.1:9464"
    assert config["tracing"]["endpoint"] == "http://127.0.0.1:4318/v1/traces"
    assert config["admin"] == {"listen": "127.0.0.1:8767", "token": "env:MCPWARDEN_ADMIN_TOKEN"}
    assert config["upstreams"]["notes"]["args"][:2] == ["-m", "mcpwarden.demo.server"]


@contextlib.contextmanager
def _serve(config: dict[str, Any], workdir: Path) -> Iterator[tuple[str, int, int]]:
    metrics_port, admin_port, port = free_port(), free_port(), free_port()
    config["metrics"]["listen"] = f"127.0.0.1:{metrics_port}"
    config["admin"]["listen"] = f"127.0.0.1:{admin_port}"
    path = workdir / "respond.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {
        **os.environ,
        "MCPWARDEN_ADMIN_TOKEN": "example-admin-token",
        # The example runs `python`: make it the interpreter that has mcpwarden installed.
        "PATH": f"{Path(PYTHON).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    log = (workdir / "gateway.log").open("wb")
    proc = subprocess.Popen(
        [PYTHON, "-m", "mcpwarden", "serve", "-c", str(path), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=workdir,
        start_new_session=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc=proc, timeout=60)
        yield f"http://127.0.0.1:{port}/servers/notes/mcp", metrics_port, admin_port
    finally:
        stop(proc)
        log.close()


async def test_example_starts_and_serves_with_no_receiver_listening(tmp_path: Path) -> None:
    config = yaml.safe_load(EXAMPLE.read_text())
    with _serve(config, tmp_path) as (url, metrics_port, admin_port):
        async with sdk_session(url) as (s, _):
            result = await s.call_tool("search_notes", {"query": "a"})
            assert result.is_error is False
        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
        assert "mcpwarden_audit_sink_queue_depth" in metrics
        admin = httpx.get(
            f"http://127.0.0.1:{admin_port}/v1/sessions",
            headers={"authorization": "Bearer example-admin-token"},
            timeout=10,
        )
        assert admin.status_code == 200
    records = (tmp_path / "var" / "audit.jsonl").read_text()
    assert '"tool":"search_notes"' in records


async def test_example_sinks_deliver_a_call_to_syslog_webhook_and_otlp_receivers(tmp_path: Path) -> None:
    syslog, hook, otlp = SyslogReceiver("udp"), HttpReceiver(), HttpReceiver(decode=decode_otlp_logs)
    traces = HttpReceiver(decode=decode_otlp_traces)
    config = yaml.safe_load(EXAMPLE.read_text())
    config["tracing"]["endpoint"] = traces.url("/v1/traces")
    for sink in config["audit"]["sinks"]:
        if sink["type"] == "syslog":
            sink["port"] = syslog.port
        elif sink["type"] == "webhook":
            sink["url"] = hook.url("/hook")
        else:
            sink["endpoint"] = otlp.url("/v1/logs")
    try:
        with _serve(config, tmp_path) as (url, metrics_port, _):
            async with sdk_session(url) as (s, _):
                await s.call_tool("search_notes", {"query": "a"})
            is_call = lambda items: any(  # noqa: E731
                m.msgid == "request" and m.cef.get("cs3") == "search_notes" for m in items
            )
            msgs = syslog.wait_for(is_call, timeout=30)
            bodies = hook.wait_for(
                lambda items: any(r.get("tool") == "search_notes" for b in items for r in b["records"]),
                timeout=30,
            )
            logs = otlp.wait_for(
                lambda items: any(
                    log["attributes"].get("mcpwarden.tool") == "search_notes" for b in items for log in b
                ),
                timeout=30,
            )
            # The sinks run in the sink process; its counters reach /metrics.
            sent = 'mcpwarden_audit_sink_sent_total{sink="webhook"}'
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
                counted = [line for line in metrics.splitlines() if line.startswith(sent)]
                if counted and float(counted[0].rsplit(" ", 1)[1]) >= 1:
                    break
                time.sleep(0.1)
            else:
                raise AssertionError(f"{sent} never counted a record")
            spans = traces.wait_for(
                lambda items: any(
                    span["attributes"].get("gen_ai.tool.name") == "search_notes" for b in items for span in b
                ),
                timeout=30,
            )
    finally:
        syslog.close()
        hook.close()
        otlp.close()
        traces.close()
    assert syslog.errors == []
    call = next(m for m in msgs if m.msgid == "request" and m.cef.get("cs3") == "search_notes")
    assert call.cef["act"] == "allow" and call.custom("upstream") == "notes"
    assert any(r["event"] == "session.start" for b in bodies for r in b["records"])
    assert any(log["resource"]["service.name"] == "mcpwarden" for b in logs for log in b)
    assert any(span["name"] == "mcp tools/call" for b in spans for span in b)
