"""Upstream faults: each gets a clear JSON-RPC error and an audit record, and every other
session keeps working."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import httpx
import pytest

from gwtest.procs import (
    FEATURES_SERVER,
    Gateway,
    free_port,
    gateway,
    http_server,
    http_upstream,
    stdio_upstream,
    wait_for_request_start,
)
from gwtest.raw import HEADERS, body_of, open_session, post

pytestmark = pytest.mark.integration


def call(client: httpx.Client, url: str, sid: str, tool: str, args: dict[str, object], id_: int = 10) -> dict:
    body = {"jsonrpc": "2.0", "id": id_, "method": "tools/call", "params": {"name": tool, "arguments": args}}
    return body_of(post(client, url, body, **{"mcp-session-id": sid}))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    # A generous per-request limit: an ordinary call on a loaded machine must never hit it. The
    # timeout test starts a gateway of its own with a short one.
    config = {"upstreams": {"feat": stdio_upstream("feat", timeout_s=60)}}
    with gateway(config) as g:
        yield g


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


def test_stdio_server_crashing_mid_call_gives_an_error_and_spares_other_sessions(
    gw: Gateway, client: httpx.Client
) -> None:
    victim = open_session(client, gw.url("feat"))
    bystander = open_session(client, gw.url("feat"))
    reply = call(client, gw.url("feat"), victim, "crash", {})
    assert reply["error"]["data"]["reason"] == "upstream.closed"
    assert "went away" in reply["error"]["message"]
    assert (
        call(client, gw.url("feat"), bystander, "echo", {"text": "still here"})["result"]["content"][0][
            "text"
        ]
        == "feat: still here"
    )
    assert any(r.get("event") == "upstream.closed" and r.get("session") == victim for r in gw.audit())


def test_call_to_a_crashed_upstream_fails_fast(gw: Gateway, client: httpx.Client) -> None:
    sid = open_session(client, gw.url("feat"))
    call(client, gw.url("feat"), sid, "crash", {})
    reply = call(client, gw.url("feat"), sid, "echo", {"text": "x"}, id_=11)
    assert reply["error"]["data"]["reason"] == "upstream.unavailable"


def test_hanging_upstream_times_out_and_the_session_keeps_working(client: httpx.Client) -> None:
    # `hang` never returns, so any limit is reached; 3 s leaves the follow-up echo room to answer.
    with gateway({"upstreams": {"feat": stdio_upstream("feat", timeout_s=3)}}) as g:
        sid = open_session(client, g.url("feat"))
        reply = call(client, g.url("feat"), sid, "hang", {})
        assert reply["error"]["data"]["reason"] == "upstream.timeout"
        echoed = call(client, g.url("feat"), sid, "echo", {"text": "after"}, id_=11)
        assert echoed["result"]["content"][0]["text"] == "feat: after"
        assert any(r.get("event") == "request" and r.get("reason") == "upstream.timeout" for r in g.audit())


def test_garbage_on_stdout_is_dropped_and_audited(gw: Gateway, client: httpx.Client) -> None:
    sid = open_session(client, gw.url("feat"))
    reply = call(client, gw.url("feat"), sid, "garbage", {})
    assert reply["result"]["content"][0]["text"] == "after garbage"
    alerts = [r for r in gw.audit() if r.get("reason") == "upstream.garbage" and r.get("session") == sid]
    assert alerts and "not json-rpc" in alerts[0]["message"]


def test_client_cancellation_ends_the_call_and_is_audited(gw: Gateway, client: httpx.Client) -> None:
    sid = open_session(client, gw.url("feat"))
    hdrs = {**HEADERS, "mcp-session-id": sid}
    slow = {"jsonrpc": "2.0", "id": 42, "method": "tools/call", "params": {"name": "hang", "arguments": {}}}
    out: list[httpx.Response] = []
    t = threading.Thread(
        target=lambda: out.append(httpx.post(gw.url("feat"), json=slow, headers=hdrs, timeout=30))
    )
    t.start()
    wait_for_request_start(gw, sid, 42)
    cancel = {
        "jsonrpc": "2.0",
        "method": "notifications/cancelled",
        "params": {"requestId": 42, "reason": "user"},
    }
    assert post(client, gw.url("feat"), cancel, **{"mcp-session-id": sid}).status_code == 202
    t.join(30)
    assert out and "result" not in out[0].text
    assert any(r.get("decision") == "cancelled" and r.get("session") == sid for r in gw.audit())


def test_stdio_child_sees_only_allow_listed_environment(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCPW_TEST_SECRET", "should-not-leak")
    config = {"upstreams": {"feat": stdio_upstream("feat", env={"GIVEN": "1"}, env_passthrough=["HOME"])}}
    with gateway(config) as g:
        sid = open_session(client, g.url("feat"))
        keys = set(call(client, g.url("feat"), sid, "whoami", {})["result"]["content"][0]["text"].split(","))
    assert "MCPW_TEST_SECRET" not in keys and "PATH" not in keys
    assert {"GIVEN", "HOME"} <= keys


def test_dead_http_upstream_gives_a_clear_initialize_error(client: httpx.Client) -> None:
    dead = f"http://127.0.0.1:{free_port()}/mcp"
    with gateway({"upstreams": {"gone": http_upstream(dead)}}) as g:
        from gwtest.raw import init_body

        r = post(client, g.url("gone"), init_body())
        msg = body_of(r)
        assert "mcp-session-id" not in r.headers
        assert msg["error"]["data"]["reason"] == "upstream.unavailable"
        assert any(a.get("event") == "error" and a.get("upstream") == "gone" for a in g.audit())


# 200 sessions through three upstreams take minutes on a loaded 2-core machine; the suite-wide
# 120 s limit is about hangs, not this much honest work.
@pytest.mark.timeout(600)
def test_200_concurrent_sessions_with_one_broken_upstream_among_healthy_ones() -> None:
    with (
        http_server(FEATURES_SERVER, "--name", "a") as (url_a, _),
        http_server(FEATURES_SERVER, "--name", "b") as (url_b, _),
        http_server(FEATURES_SERVER, "--name", "c") as (url_c, _),
    ):
        # The healthy upstreams get a generous connect limit: at load 13 on two cores, 100
        # concurrent initializes can keep an SDK server busier than the 10 s default, which is an
        # honest timeout, not the lost connection this test looks for (issue 11 item 18).
        healthy = {"connect_timeout_s": 90}
        config = {
            "upstreams": {
                "a": http_upstream(url_a, **healthy),
                "b": http_upstream(url_b, **healthy),
                "c": http_upstream(url_c, **healthy),
                "broken": {
                    "transport": "http",
                    "url": f"http://127.0.0.1:{free_port()}/mcp",
                    "allow_private": True,
                    "connect_timeout_s": 2,
                },
            },
            "sessions": {"max_sessions": 1000},
        }
        with gateway(config) as g:
            results = asyncio.run(_many_sessions(g.url(), 200))
            healthy_errors = [
                (r.get("upstream"), r.get("reason"), r.get("message"))
                for r in g.audit()
                if r.get("event") == "error" and r.get("upstream") in ("a", "b", "c")
            ]
    failures = [r for r in results if r != "ok"]
    assert not failures, (failures[:5], healthy_errors[:5])


async def _many_sessions(url: str, n: int) -> list[str]:
    from gwtest.raw import init_body

    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def one(i: int) -> str:
            try:
                r = await client.post(url, json=init_body(), headers=HEADERS)
                if "mcp-session-id" not in r.headers:
                    return f"initialize failed: HTTP {r.status_code} {r.text[:300]}"
                sid = r.headers["mcp-session-id"]
                h = {**HEADERS, "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}
                await client.post(
                    url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=h
                )
                owner = "abc"[i % 3]
                body = {
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "tools/call",
                    "params": {"name": f"{owner}__echo", "arguments": {"text": str(i)}},
                }
                reply = body_of(await client.post(url, json=body, headers=h))
                if "result" not in reply:
                    return f"call failed: {reply.get('error')}"
                text = reply["result"]["content"][0]["text"]
                await client.delete(url, headers=h)
                return "ok" if text == f"{owner}: {i}" else f"wrong answer {text!r}"
            except Exception as exc:  # collected and reported by the test
                return f"{type(exc).__name__}: {exc}"

        return await asyncio.gather(*(one(i) for i in range(n)))
