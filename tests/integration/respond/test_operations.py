"""The operations layer on a running gateway: metrics, rate limits, concurrency caps, the kill
switch (CLI and admin API) and live-session listing, each seen from a real client."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import orjson
import pytest
from mcp.shared.exceptions import MCPError

from gwtest.client import sdk_session
from gwtest.procs import PYTHON, Gateway, free_port, gateway, stdio_upstream
from gwtest.raw import init_body, post

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

ADMIN_TOKEN = "admin-token-for-tests-0123456789"


def _until(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError("condition not met in time")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "mcpwarden", *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture(scope="module")
def ops() -> Iterator[tuple[Gateway, int, int]]:
    metrics_port, admin_port = free_port(), free_port()
    config = {
        "upstreams": {
            "feat": stdio_upstream("feat", tools={"deny": ["crash"]}),
        },
        "metrics": {"listen": f"127.0.0.1:{metrics_port}"},
        "admin": {"listen": f"127.0.0.1:{admin_port}", "token": "env:MCPW_TEST_ADMIN_TOKEN"},
        "limits": {
            "tools": {"feat/add": {"rate": 0.001, "burst": 2}},
            "max_concurrent_per_session": 1,
        },
    }
    os.environ["MCPW_TEST_ADMIN_TOKEN"] = ADMIN_TOKEN
    try:
        with gateway(config) as gw:
            yield gw, metrics_port, admin_port
    finally:
        os.environ.pop("MCPW_TEST_ADMIN_TOKEN", None)


def _store(gw: Gateway) -> str:
    return str(gw.audit_path.parent / "store.sqlite3")


def _metrics(port: int) -> str:
    return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text


def _admin(port: int, method: str, path: str, token: str = ADMIN_TOKEN, body: Any = None) -> httpx.Response:
    return httpx.request(
        method,
        f"http://127.0.0.1:{port}{path}",
        headers={"authorization": f"Bearer {token}"},
        content=orjson.dumps(body) if body is not None else None,
        timeout=10,
    )


async def test_metrics_count_requests_denials_latency_and_sessions(ops: tuple[Gateway, int, int]) -> None:
    gw, metrics_port, _ = ops
    async with sdk_session(gw.url("feat")) as (s, _):
        await s.call_tool("echo", {"text": "hi"})
        with pytest.raises(MCPError):
            await s.call_tool("crash", {})
        text = await anyio.to_thread.run_sync(_metrics, metrics_port)
        assert "mcpwarden_live_sessions 1.0" in text or "mcpwarden_live_sessions 2.0" in text
    assert 'mcpwarden_requests_total{decision="allow",method="tools/call",upstream="feat"}' in text
    assert 'mcpwarden_denials_total{guard="tool_filter",reason="tool.denied"}' in text
    assert 'mcpwarden_request_latency_seconds_bucket{le="+Inf",upstream="feat"}' in text
    assert "mcpwarden_quarantined_definitions 0.0" in text


async def test_metrics_time_each_guard_by_hook(ops: tuple[Gateway, int, int]) -> None:
    gw, metrics_port, _ = ops
    async with sdk_session(gw.url("feat")) as (s, _):
        await s.call_tool("echo", {"text": "timed"})
    text = await anyio.to_thread.run_sync(_metrics, metrics_port)
    timed = [
        line
        for line in text.splitlines()
        if line.startswith('mcpwarden_guard_latency_seconds_count{guard="tool_filter"')
    ]
    assert timed and all(float(line.rsplit(" ", 1)[1]) >= 1 for line in timed)


async def test_tool_rate_limit_answers_a_json_rpc_error_with_retry_after(
    ops: tuple[Gateway, int, int],
) -> None:
    gw, _, _ = ops
    async with sdk_session(gw.url("feat")) as (s, _):
        await s.call_tool("add", {"a": 1, "b": 2})
        await s.call_tool("add", {"a": 1, "b": 2})
        with pytest.raises(MCPError) as info:
            await s.call_tool("add", {"a": 1, "b": 2})
        await s.call_tool("echo", {"text": "other tools are not limited"})
    data = info.value.error.data
    assert data["reason"] == "rate.tool" and data["guard"] == "rate_limit"
    assert data["retry_after"] > 0
    assert any(r.get("reason") == "rate.tool" and r.get("event") == "decision" for r in gw.audit())


async def test_second_concurrent_call_in_one_session_is_refused(ops: tuple[Gateway, int, int]) -> None:
    gw, _, _ = ops
    async with sdk_session(gw.url("feat")) as (s, _):
        refused_hang: list[MCPError] = []

        async def hang() -> None:
            try:
                await s.call_tool("hang", {"seconds": 3600})
            except MCPError as exc:  # lost the race to an echo below: try again
                refused_hang.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(hang)
            with anyio.fail_after(60):
                while True:
                    if refused_hang:
                        # The echo won the race: start the hang again and let it go out before
                        # the next echo, or each echo keeps beating the new hang (a livelock).
                        refused_hang.clear()
                        tg.start_soon(hang)
                        await anyio.sleep(0.2)
                    try:
                        await s.call_tool("echo", {"text": "second"})
                    except MCPError as exc:
                        assert exc.error.data["reason"] == "concurrency.session"
                        break
                    await anyio.sleep(0.05)  # the hang call has not reached the gateway yet
            tg.cancel_scope.cancel()


async def test_cli_disable_tool_applies_to_the_live_session_and_enable_reverses_it(
    ops: tuple[Gateway, int, int],
) -> None:
    gw, _, _ = ops
    async with sdk_session(gw.url("feat")) as (s, _):
        await s.call_tool("echo", {"text": "before"})
        done = await anyio.to_thread.run_sync(
            _cli, "admin", "disable", "tool", "feat/echo", "--store", _store(gw)
        )
        assert done.returncode == 0, done.stderr
        with pytest.raises(MCPError) as info:
            await s.call_tool("echo", {"text": "during"})
        assert info.value.error.data == {"reason": "killswitch.tool", "guard": "kill_switch"}
        done = await anyio.to_thread.run_sync(
            _cli, "admin", "enable", "tool", "feat/echo", "--store", _store(gw)
        )
        assert done.returncode == 0, done.stderr
        result = await s.call_tool("echo", {"text": "after"})
        assert result.is_error is False
    events = [r["event"] for r in gw.audit() if r.get("event", "").startswith("admin.")]
    assert "admin.disable" in events and "admin.enable" in events


async def test_admin_api_disables_a_principal_and_closes_its_sessions(ops: tuple[Gateway, int, int]) -> None:
    gw, _, admin_port = ops
    async with sdk_session(gw.url("feat")) as (s, _):
        await s.call_tool("echo", {"text": "before"})
        r = await anyio.to_thread.run_sync(
            lambda: _admin(admin_port, "POST", "/v1/disable", body={"kind": "principal", "name": "anonymous"})
        )
        assert r.status_code == 200, r.text
        with pytest.raises(MCPError):
            await s.call_tool("echo", {"text": "during"})
    r = await anyio.to_thread.run_sync(
        lambda: _admin(admin_port, "POST", "/v1/enable", body={"kind": "principal", "name": "anonymous"})
    )
    assert r.status_code == 200
    killed = [r for r in gw.audit() if r.get("event") == "session.killed"]
    assert killed and killed[-1]["reason"] == "killswitch.principal"
    api = [r for r in gw.audit() if r.get("event") == "admin.disable" and r.get("principal") == "admin-api"]
    assert api and api[-1]["details"]["kind"] == "principal"


async def test_admin_api_refuses_a_wrong_token_and_audits_it(ops: tuple[Gateway, int, int]) -> None:
    gw, _, admin_port = ops
    r = await anyio.to_thread.run_sync(lambda: _admin(admin_port, "GET", "/v1/sessions", token="nope"))
    assert r.status_code == 401
    r = await anyio.to_thread.run_sync(
        lambda: httpx.post(
            f"http://127.0.0.1:{admin_port}/v1/disable", json={"kind": "server", "name": "feat"}
        )
    )
    assert r.status_code == 401
    assert any(rec.get("reason") == "admin.unauthorized" for rec in gw.audit())


async def test_sessions_are_listed_with_principal_upstreams_age_and_counters(
    ops: tuple[Gateway, int, int],
) -> None:
    gw, _, admin_port = ops
    async with sdk_session(gw.url("feat")) as (s, _):
        await s.call_tool("echo", {"text": "one"})
        await s.call_tool("echo", {"text": "two"})
        r = await anyio.to_thread.run_sync(lambda: _admin(admin_port, "GET", "/v1/sessions"))
        [row] = [x for x in r.json()["sessions"] if x["requests"] >= 3]
        assert row["subject"] == "anonymous" and row["upstreams"] == ["feat"] and row["age_s"] >= 0

        def listed() -> Any:
            # The gateway publishes counters to the store once a second: the CLI sees them
            # after the next publish, so ask again until it does (bounded, never a timing claim).
            for _ in range(60):
                done = _cli("admin", "sessions", "--json", "--store", _store(gw))
                rows = [x for x in orjson.loads(done.stdout) if x["handle"] == row["handle"]]
                if rows and rows[0]["requests"] >= 3:
                    return rows
                time.sleep(0.5)
            return None

        [cli_row] = await anyio.to_thread.run_sync(listed)
    assert cli_row["upstreams"] == ["feat"] and cli_row["subject"] == "anonymous"


def test_principal_rate_limit_is_http_429_with_retry_after() -> None:
    config = {
        "upstreams": {"feat": stdio_upstream("feat")},
        "limits": {"per_principal": {"rate": 0.001, "burst": 2}},
    }
    with gateway(config) as gw, httpx.Client(timeout=30) as client:
        r = post(client, gw.url("feat"), init_body())
        assert r.status_code == 200
        sid = r.headers["mcp-session-id"]
        headers = {"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}
        post(client, gw.url("feat"), {"jsonrpc": "2.0", "method": "notifications/initialized"}, **headers)
        ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
        assert post(client, gw.url("feat"), ping, **headers).status_code == 200
        limited = post(client, gw.url("feat"), {**ping, "id": 3}, **headers)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["error"]["data"]["reason"] == "rate.principal"
        assert any(r.get("reason") == "rate.principal" and r.get("event") == "rejected" for r in gw.audit())
