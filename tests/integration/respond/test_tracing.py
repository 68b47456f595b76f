"""Traces from a running gateway: an OTLP receiver decoding the protobuf sees the request, guard
and upstream spans in the client's trace, and the upstream (an SDK server) receives the W3C
trace context of the gateway's upstream span in `_meta`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import TextContent

from gwtest.client import sdk_session
from gwtest.procs import FIXTURES, PYTHON, Gateway, gateway
from gwtest.receivers import HttpReceiver, decode_otlp_traces

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c"
CLIENT_SPAN = "b7ad6b7169203331"


@pytest.fixture(scope="module")
def traced() -> Iterator[tuple[Gateway, HttpReceiver]]:
    receiver = HttpReceiver(decode=decode_otlp_traces)
    config = {
        "upstreams": {
            "meta": {
                "transport": "stdio",
                "command": PYTHON,
                "args": [str(FIXTURES / "meta_server.py")],
                "content": "off",
                "tools": {"deny": ["blocked"]},
            }
        },
        "tracing": {"endpoint": receiver.url("/v1/traces"), "service_name": "gw-traced"},
    }
    try:
        with gateway(config) as gw:
            yield gw, receiver
    finally:
        receiver.close()


def _spans(receiver: HttpReceiver, predicate: Any) -> list[dict[str, Any]]:
    batches = receiver.wait_for(lambda items: predicate([s for batch in items for s in batch]))
    return [s for batch in batches for s in batch]


async def test_the_upstream_gets_the_gateway_span_context_in_meta_and_the_receiver_the_spans(
    traced: tuple[Gateway, HttpReceiver],
) -> None:
    gw, receiver = traced
    async with sdk_session(gw.url("meta")) as (client, _):
        result = await client.call_tool(
            "meta", {}, meta={"traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"}
        )
    content = result.content[0]
    assert isinstance(content, TextContent)
    received = json.loads(content.text)
    version, trace_id, parent_id, _flags = received["traceparent"].split("-")
    assert (version, trace_id) == ("00", CLIENT_TRACE)
    assert parent_id != CLIENT_SPAN  # the gateway's own span, not the client's

    def complete(spans: list[dict[str, Any]]) -> bool:
        names = {s["name"] for s in spans if s["trace_id"] == CLIENT_TRACE}
        return {"mcp tools/call", "upstream meta tools/call"} <= names

    spans = [s for s in _spans(receiver, complete) if s["trace_id"] == CLIENT_TRACE]
    by_name = {s["name"]: s for s in spans}
    request, upstream = by_name["mcp tools/call"], by_name["upstream meta tools/call"]
    assert request["parent_span_id"] == CLIENT_SPAN
    assert request["resource"]["service.name"] == "gw-traced"
    assert request["attributes"]["mcpwarden.decision"] == "allow"
    assert request["attributes"]["gen_ai.tool.name"] == "meta"
    assert upstream["span_id"] == parent_id  # what the upstream was told is this span
    assert upstream["parent_span_id"] == request["span_id"]
    guards = [s for s in spans if s["name"].startswith("guard ")]
    assert guards and all(g["parent_span_id"] == request["span_id"] for g in guards)


async def test_a_denied_call_is_an_error_span_naming_the_guard(traced: tuple[Gateway, HttpReceiver]) -> None:
    gw, receiver = traced
    trace = "1af7651916cd43dd8448eb211c80319d"
    async with sdk_session(gw.url("meta")) as (client, _):
        with pytest.raises(MCPError, match="not allowed"):
            await client.call_tool("blocked", {}, meta={"traceparent": f"00-{trace}-{CLIENT_SPAN}-01"})

    def denied(spans: list[dict[str, Any]]) -> bool:
        return any(s["trace_id"] == trace and s["name"] == "mcp tools/call" for s in spans)

    spans = [s for s in _spans(receiver, denied) if s["trace_id"] == trace]
    request = next(s for s in spans if s["name"] == "mcp tools/call")
    assert request["status_code"] == 2  # STATUS_CODE_ERROR
    assert request["attributes"]["mcpwarden.decision"] == "deny"
    assert request["attributes"]["mcpwarden.guard"]
    assert not any(s["name"].startswith("upstream ") for s in spans)
