"""Clients that never read their streams while an upstream floods them (issue 11 item 6).

The client is a raw socket with a small receive buffer that sends its request and then
never reads, so the gateway's writes block and everything the upstream sends piles up in
the gateway's buffers. Queue lengths are taken from the `stream.backpressure` audit
records, which carry them; a fresh session must keep working throughout.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest

from gwtest.procs import FIXTURES, Gateway, gateway, http_server, http_upstream
from gwtest.raw import body_of, open_session, post
from mcpwarden.gateway.outbox import STREAM_MAX_MESSAGES

pytestmark = pytest.mark.integration

HOSTILE = FIXTURES / "hostile_http_server.py"


def silent_client(
    gw: Gateway, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> socket.socket:
    """Send one request and never read the answer."""
    port = int(gw.base.rsplit(":", 1)[1])
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    return sock


def flood_call(sid: str, kind: str, count: int) -> bytes:
    return orjson.dumps(
        {
            "jsonrpc": "2.0",
            "id": 77,
            "method": "tools/call",
            "params": {
                "name": "flood",
                "arguments": {"count": count, "kind": kind, "pad": 2000},
                "_meta": {"progressToken": "p1"},
            },
        }
    )


def stream_headers(sid: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "mcp-session-id": sid,
        "mcp-protocol-version": "2025-11-25",
    }


def wait_for_audit(gw: Gateway, pred: Callable[[dict[str, Any]], bool], tries: int = 2400) -> dict[str, Any]:
    for _ in range(tries):
        found = [r for r in gw.audit() if pred(r)]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError("no such audit record")


def backpressure(action: str, stream: str) -> Callable[[dict[str, Any]], bool]:
    return lambda r: (
        r.get("event") == "stream.backpressure"
        and r["details"]["action"] == action
        and r["details"]["stream"] == stream
    )


def fresh_call_works(gw: Gateway) -> bool:
    with httpx.Client(timeout=60) as c:
        sid = open_session(c, gw.url("evil"))
        body = {
            "jsonrpc": "2.0",
            "id": 5,
            "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": "x"}},
        }
        reply = body_of(post(c, gw.url("evil"), body, **{"mcp-session-id": sid}))
    return bool(reply["result"]["content"][0]["text"] == "hostile: x")


@pytest.fixture()
def flood_gateway() -> Iterator[Gateway]:
    """Floods come on request streams (the `flood` tool); no server-initiated stream."""
    with (
        http_server(HOSTILE) as (url, _),
        gateway({"upstreams": {"evil": http_upstream(url, timeout_s=120)}}) as gw,
    ):
        yield gw


@pytest.fixture()
def get_flood_gateway() -> Iterator[Gateway]:
    """The upstream floods every session's server-initiated stream."""
    with (
        http_server(HOSTILE, "--get", "flood") as (url, _),
        gateway({"upstreams": {"evil": http_upstream(url, timeout_s=120)}}) as gw,
    ):
        yield gw


def test_progress_flood_to_a_client_that_never_reads_is_dropped_not_queued(flood_gateway: Gateway) -> None:
    gw = flood_gateway
    with httpx.Client(timeout=60) as c:
        sid = open_session(c, gw.url("evil"))
    sock = silent_client(
        gw, "POST", "/servers/evil/mcp", stream_headers(sid), flood_call(sid, "progress", 20_000)
    )
    try:
        dropped = wait_for_audit(gw, backpressure("progress_dropped", "request"))
        # The call itself still completes: its final response always fits.
        done = wait_for_audit(
            gw,
            lambda r: (
                r.get("event") == "request" and r.get("session") == sid and r.get("method") == "tools/call"
            ),
        )
        assert fresh_call_works(gw)
    finally:
        sock.close()
    assert dropped["details"]["queued_messages"] <= STREAM_MAX_MESSAGES
    assert done["decision"] == "allow"
    assert not [r for r in gw.audit() if backpressure("stream_closed", "request")(r)]


def test_client_that_never_reads_a_flood_of_messages_is_closed_and_its_call_cancelled(
    flood_gateway: Gateway,
) -> None:
    gw = flood_gateway
    with httpx.Client(timeout=60) as c:
        sid = open_session(c, gw.url("evil"))
    sock = silent_client(
        gw, "POST", "/servers/evil/mcp", stream_headers(sid), flood_call(sid, "message", 20_000)
    )
    try:
        closed = wait_for_audit(gw, backpressure("stream_closed", "request"))
        cancelled = wait_for_audit(
            gw,
            lambda r: (
                r.get("event") == "request" and r.get("session") == sid and r.get("method") == "tools/call"
            ),
        )
        assert fresh_call_works(gw)
    finally:
        sock.close()
    assert closed["details"]["queued_messages"] <= STREAM_MAX_MESSAGES
    assert closed["reason"] == "stream.slow_consumer"
    assert cancelled["decision"] == "cancelled"


def test_get_stream_that_is_never_read_is_closed_and_the_session_keeps_working(
    get_flood_gateway: Gateway,
) -> None:
    """On the aggregated endpoint, where the gateway answers `ping` itself: while the upstream
    keeps flooding, a request to it would also receive the flood (issue 11 item 7)."""
    gw = get_flood_gateway
    with httpx.Client(timeout=60) as c:
        sid = open_session(c, gw.url())
        headers = {k: v for k, v in stream_headers(sid).items() if k != "content-type"}
        headers["accept"] = "text/event-stream"
        sock = silent_client(gw, "GET", "/mcp", headers)
        try:
            closed = wait_for_audit(gw, backpressure("stream_closed", "session"))
            ping = body_of(
                post(c, gw.url(), {"jsonrpc": "2.0", "id": 9, "method": "ping"}, **{"mcp-session-id": sid})
            )
        finally:
            sock.close()
    assert closed["details"]["queued_messages"] <= STREAM_MAX_MESSAGES
    assert closed["reason"] == "stream.slow_consumer"
    assert ping == {"jsonrpc": "2.0", "id": 9, "result": {}}
    assert httpx.get(f"{gw.base}/healthz", timeout=30).status_code == 200
