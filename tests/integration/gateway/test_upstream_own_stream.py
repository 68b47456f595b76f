"""Messages an upstream sends on its own GET stream: none is lost to a race after initialize,
none lands on an unrelated call's stream, and a GET stream that is late is audited."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from mcp.types import TextContent

from gwtest.client import sdk_session
from gwtest.procs import FIXTURES, Gateway, gateway, http_server, http_upstream
from gwtest.raw import body_of, open_session, post

pytestmark = [pytest.mark.integration]

STREAM_SERVER = FIXTURES / "stream_server.py"


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    # "late" opens its GET stream a second after being asked; "stuck" only after a minute,
    # far past the gateway's bounded wait (its connect_timeout_s).
    with (
        http_server(STREAM_SERVER, "--get-delay", "1.0") as (late_url, _),
        http_server(STREAM_SERVER, "--get-delay", "60") as (stuck_url, _),
    ):
        config = {
            "upstreams": {
                "late": http_upstream(late_url, timeout_s=20),
                "stuck": http_upstream(stuck_url, timeout_s=20, connect_timeout_s=2),
            }
        }
        with gateway(config) as g:
            yield g


def _text(result: Any) -> str:
    item = result.content[0]
    assert isinstance(item, TextContent)
    return item.text


@pytest.mark.anyio
async def test_elicitation_on_the_upstream_get_stream_right_after_initialize_reaches_the_client(
    gw: Gateway,
) -> None:
    async with sdk_session(gw.url("late")) as (session, rec):
        result = await session.call_tool("ask_on_get_stream", {})
    assert not result.is_error, result
    assert _text(result) == "elicitation accept"
    assert [e.message for e in rec.elicitations] == ["Proceed?"]


def _sse_messages(text: str) -> list[dict[str, Any]]:
    return [
        orjson.loads(line[5:]) for line in text.splitlines() if line.startswith("data:") and line[5:].strip()
    ]


def _call(id_: int, name: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "method": "tools/call", "params": {"name": name, "arguments": {}}}


def test_notification_from_the_upstream_get_stream_is_not_attached_to_the_call_in_flight(gw: Gateway) -> None:
    url = gw.url("late")
    with httpx.Client(timeout=30) as client:
        sid = open_session(client, url)
        headers = {"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}
        reply = post(client, url, _call(2, "log_on_get_stream"), **headers)
        assert reply.status_code == 200
        on_call = (
            _sse_messages(reply.text)
            if reply.headers["content-type"].startswith("text/event")
            else [reply.json()]
        )
        assert [m.get("method") for m in on_call] == [None], on_call
        assert body_of(reply)["result"]["content"][0]["text"] == "logged"
        # The notification belongs to the session: the next GET stream gets it.
        with client.stream("GET", url, headers={**headers, "accept": "text/event-stream"}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:") and line[5:].strip():
                    msg = orjson.loads(line[5:])
                    assert msg["method"] == "notifications/message"
                    assert msg["params"]["data"] == "unrelated to any call"
                    break


def test_get_stream_that_does_not_open_in_time_is_audited_and_calls_still_go(gw: Gateway) -> None:
    url = gw.url("stuck")
    with httpx.Client(timeout=30) as client:
        sid = open_session(client, url)
        headers = {"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}
        reply = post(client, url, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, **headers)
        assert reply.status_code == 200
        assert {t["name"] for t in body_of(reply)["result"]["tools"]} >= {"ask_on_get_stream"}
    alerts = [
        r for r in gw.audit() if r.get("reason") == "upstream.get_stream_slow" and r.get("session") == sid
    ]
    assert len(alerts) == 1
    assert alerts[0]["upstream"] == "stuck"
