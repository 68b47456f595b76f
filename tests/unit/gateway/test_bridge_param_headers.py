"""The bridge to a 2026-07-28 upstream mirrors `x-mcp-header` arguments into `Mcp-Param-*`.

A 2026-07-28 server must refuse a `tools/call` whose annotated arguments are not mirrored in
headers, and a handshake-era client never sends them: the bridge learns the annotations from
the upstream's own `tools/list` and adds the headers to each call it forwards.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from mcpwarden.gateway.meta_validation import check_param_headers
from mcpwarden.gateway.upstream.base import UpstreamConnection
from mcpwarden.gateway.upstream.stateless import StatelessUpstream, encode_header, mirror_params

pytestmark = pytest.mark.anyio

JSON = dict[str, Any]
REGION_TOOL = {
    "name": "weather",
    "inputSchema": {
        "type": "object",
        "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "days": {"type": "integer", "x-mcp-header": "Days"},
            "text": {"type": "string"},
        },
    },
}


class RecordingTransport(UpstreamConnection):
    """Stands in for the HTTP transport: keeps what was sent and the headers it would add."""

    def __init__(self) -> None:
        async def ignore(*_: Any) -> None:
            return None

        super().__init__("modern", ignore, ignore)
        self.sent: list[tuple[JSON, dict[str, str]]] = []

    async def start(self) -> None:
        return None

    async def send(self, msg: JSON) -> None:
        self.sent.append((msg, self.extra_headers(msg)))

    async def close(self) -> None:
        return None


def call(rid: int, arguments: JSON) -> JSON:
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "tools/call",
        "params": {"name": "weather", "arguments": arguments},
    }


async def bridge_that_listed_tools() -> tuple[StatelessUpstream, RecordingTransport]:
    async def ignore(*_: Any) -> None:
        return None

    bridge = StatelessUpstream("modern", ignore, ignore)
    inner = RecordingTransport()
    bridge.wrap(inner)
    await bridge.send({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
    await bridge.from_inner({"jsonrpc": "2.0", "id": 1, "result": {"tools": [REGION_TOOL]}}, 1)
    return bridge, inner


async def test_a_call_after_the_listing_carries_a_mirror_of_each_annotated_argument() -> None:
    bridge, inner = await bridge_that_listed_tools()
    await bridge.send(call(2, {"region": "eu-west", "days": 3, "text": "not mirrored"}))
    _msg, headers = inner.sent[-1]
    assert headers["mcp-method"] == "tools/call" and headers["mcp-name"] == "weather"
    assert headers["mcp-param-region"] == "eu-west" and headers["mcp-param-days"] == "3"
    assert not any("text" in h for h in headers)


async def test_the_mirrors_pass_the_check_a_2026_07_28_server_applies() -> None:
    bridge, inner = await bridge_that_listed_tools()
    arguments = {"region": "  Zürich ", "days": 2}
    await bridge.send(call(3, arguments))
    msg, headers = inner.sent[-1]
    annotations = {"region": ("region", "string"), "days": ("days", "integer")}
    check_param_headers(headers, annotations, msg["params"]["arguments"], 3)  # raises on a mismatch


async def test_an_absent_or_null_argument_gets_no_header() -> None:
    bridge, inner = await bridge_that_listed_tools()
    await bridge.send(call(4, {"region": None}))
    _, headers = inner.sent[-1]
    assert not any(h.startswith("mcp-param-") for h in headers)


def test_values_that_are_not_plain_ascii_are_sent_as_base64() -> None:
    encoded = encode_header("  Zürich ")
    assert encoded.startswith("=?base64?") and encoded.endswith("?=")
    assert base64.b64decode(encoded[len("=?base64?") : -2]).decode() == "  Zürich "
    assert encode_header(True) == "true" and encode_header("plain") == "plain"


def test_a_tool_never_listed_gets_no_param_headers() -> None:
    assert mirror_params(call(5, {"region": "eu"}), {}) == {}
