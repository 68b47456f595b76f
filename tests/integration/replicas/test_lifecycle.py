"""A replica's life: reload on SIGHUP, /healthz and /readyz (SIGTERM drain: tests of `serve`).

One real gateway process (SQLite store: none of this needs the shared backends) in front
of the SDK features server over stdio.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import httpx
import pytest
import yaml

from gwtest.procs import gateway, stdio_upstream
from gwtest.raw import body_of, open_session, post

pytestmark = pytest.mark.integration

UP = "feat"


def call(client: httpx.Client, url: str, sid: str, tool: str, arguments: dict[str, Any]) -> Any:
    body = {
        "jsonrpc": "2.0",
        "id": 5,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    resp = post(client, url, body, **{"mcp-session-id": sid})
    assert resp.status_code == 200, resp.text
    return body_of(resp)


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_healthz_is_alive_and_readyz_reports_store_and_upstreams() -> None:
    with gateway({"upstreams": {UP: stdio_upstream()}}) as gw:
        assert httpx.get(f"{gw.base}/healthz").json()["status"] == "ok"
        ready = httpx.get(f"{gw.base}/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["sqlite"] == "ok" and ready.json()["upstreams"] == 1


def test_sighup_reloads_rules_without_dropping_sessions(tmp_path: Any) -> None:
    config = {"upstreams": {UP: stdio_upstream()}}
    with gateway(config, workdir=tmp_path) as gw, httpx.Client(timeout=30) as client:
        url = gw.url(UP)
        sid = open_session(client, url)
        assert call(client, url, sid, "echo", {"text": "hi"})["result"]["content"][0]["text"] == "feat: hi"
        cfg_path = tmp_path / "gateway.yaml"
        reloaded = yaml.safe_load(cfg_path.read_text())
        reloaded["upstreams"][UP]["tools"] = {"deny": ["echo"]}
        cfg_path.write_text(yaml.safe_dump(reloaded))
        os.killpg(gw.proc.pid, signal.SIGHUP)
        wait_for(lambda: "error" in call(client, url, sid, "echo", {"text": "hi"}), 20, "the new rule")
        # The same session goes on: other tools still answer.
        assert call(client, url, sid, "add", {"a": 2, "b": 3})["result"]["content"][0]["text"] == "5"
    reloads = [r for r in gw.audit() if r["event"] == "config.reload"]
    assert reloads and reloads[-1]["decision"] == "allow"


def test_sighup_with_a_broken_file_keeps_the_running_config(tmp_path: Any) -> None:
    with (
        gateway({"upstreams": {UP: stdio_upstream()}}, workdir=tmp_path) as gw,
        httpx.Client(timeout=30) as client,
    ):
        url = gw.url(UP)
        sid = open_session(client, url)
        (tmp_path / "gateway.yaml").write_text("upstreams: [not, a, mapping")
        os.killpg(gw.proc.pid, signal.SIGHUP)
        wait_for(lambda: any(r["event"] == "config.reload" for r in gw.audit()), 20, "the reload attempt")
        reply = call(client, url, sid, "echo", {"text": "still"})
        assert reply["result"]["content"][0]["text"] == "feat: still"
    (record,) = [r for r in gw.audit() if r["event"] == "config.reload"]
    assert (record["decision"], record["reason"]) == ("deny", "config.invalid")
