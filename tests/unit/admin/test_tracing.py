"""Tracing: request, guard and upstream spans in one trace, W3C context in `_meta` both ways,
no session id in any span, and nothing at all when tracing is not configured."""

from __future__ import annotations

import asyncio
from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from mcpwarden.admin.tracing import Tracing, session_tag
from mcpwarden.config import parse_config
from mcpwarden.gateway.core import GatewayCore
from mcpwarden.gateway.pipeline import Instruments, Pipeline
from mcpwarden.guards.base import Guard
from mcpwarden.types import Decision, Denied, Exchange, Principal

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
SESSION = "very-secret-session-id-0123456789"


class _Blocker(Guard):
    name = "blocker"

    async def tool_call(self, ex: Exchange, params: dict[str, Any]) -> Decision | None:
        if params.get("name") == "forbidden":
            return Decision.deny("policy.denied", "not this one")
        return None


class _Quiet(Guard):
    name = "quiet"

    async def tool_call(self, ex: Exchange, params: dict[str, Any]) -> Decision | None:
        return None


def _tracing(propagate: bool = True, guard_spans: bool = True) -> tuple[Tracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing = Tracing(
        exporter, service_name="gw-unit", propagate=propagate, guard_spans=guard_spans, schedule_delay_s=0.01
    )
    return tracing, exporter


def _exchange(tool: str) -> Exchange:
    params = {"name": tool, "arguments": {}}
    return Exchange("tools/call", "files", Principal("alice"), SESSION, 1, tool, params, {})


async def _one_request(tracing: Tracing, tool: str, meta: dict[str, Any] | None) -> dict[str, Any]:
    """What the request processor does: a request span, the guards, the upstream call."""
    params: dict[str, Any] = {"name": tool, "arguments": {}}
    if meta is not None:
        params["_meta"] = meta
    started = tracing.start_request("tools/call", SESSION, "alice", params)
    pipeline = Pipeline([_Quiet(), _Blocker()], instruments=Instruments(tracing=tracing))
    record: dict[str, Any] = {"upstream": "files", "tool": tool, "decision": "allow"}
    sent: dict[str, Any] = {}
    try:
        await pipeline.run("tool_call", _exchange(tool), params)
        with tracing.upstream_call("files", "tools/call", params) as out:
            sent = out
    except Denied as exc:
        record.update(decision="deny", guard=exc.guard, reason=exc.decision.reason)
    tracing.finish_request(started, record)
    return sent


def _spans(tracing: Tracing, exporter: InMemorySpanExporter) -> dict[str, Any]:
    tracing.close()
    return {span.name: span for span in exporter.get_finished_spans()}


def test_a_request_joins_the_trace_the_client_sent_in_meta() -> None:
    tracing, exporter = _tracing()
    asyncio.run(_one_request(tracing, "read", {"traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"}))
    request = _spans(tracing, exporter)["mcp tools/call"]
    assert format(request.context.trace_id, "032x") == CLIENT_TRACE
    assert request.parent is not None and format(request.parent.span_id, "016x") == CLIENT_SPAN


def test_guard_and_upstream_spans_are_children_of_the_request_span() -> None:
    tracing, exporter = _tracing()
    asyncio.run(_one_request(tracing, "read", None))
    spans = _spans(tracing, exporter)
    request = spans["mcp tools/call"]
    for name in ("guard quiet", "guard blocker", "upstream files tools/call"):
        assert spans[name].parent is not None
        assert spans[name].parent.span_id == request.context.span_id, name
    assert spans["guard blocker"].attributes["mcpwarden.hook"] == "tool_call"
    assert spans["guard blocker"].attributes["mcpwarden.guard"] == "blocker"
    assert spans["guard blocker"].attributes["mcpwarden.decision"] == "pass"


def test_the_upstream_request_carries_the_upstream_spans_context_in_meta() -> None:
    tracing, exporter = _tracing()
    sent = asyncio.run(_one_request(tracing, "read", {"progressToken": 7}))
    upstream = _spans(tracing, exporter)["upstream files tools/call"]
    trace_id = format(upstream.context.trace_id, "032x")
    span_id = format(upstream.context.span_id, "016x")
    version, sent_trace, sent_span, flags = sent["_meta"]["traceparent"].split("-")
    assert (version, sent_trace, sent_span) == ("00", trace_id, span_id)
    assert int(flags, 16) & 1  # sampled
    assert sent["_meta"]["progressToken"] == 7  # the client's own _meta keys stay


def test_propagation_can_be_turned_off_while_spans_are_still_recorded() -> None:
    tracing, exporter = _tracing(propagate=False)
    sent = asyncio.run(_one_request(tracing, "read", None))
    assert "_meta" not in sent
    assert "upstream files tools/call" in _spans(tracing, exporter)


def test_guard_spans_can_be_left_out_keeping_request_and_upstream_spans() -> None:
    tracing, exporter = _tracing(guard_spans=False)
    asyncio.run(_one_request(tracing, "read", None))
    assert set(_spans(tracing, exporter)) == {"mcp tools/call", "upstream files tools/call"}


def test_a_denied_request_marks_its_span_and_the_deciding_guards_span_as_errors() -> None:
    tracing, exporter = _tracing()
    asyncio.run(_one_request(tracing, "forbidden", None))
    spans = _spans(tracing, exporter)
    assert spans["mcp tools/call"].status.status_code is StatusCode.ERROR
    assert spans["mcp tools/call"].attributes["mcpwarden.reason"] == "policy.denied"
    assert spans["guard blocker"].status.status_code is StatusCode.ERROR
    assert spans["guard blocker"].attributes["mcpwarden.decision"] == "deny"
    assert "upstream files tools/call" not in spans


def test_spans_name_the_session_by_its_handle_never_by_its_id() -> None:
    tracing, exporter = _tracing()
    asyncio.run(_one_request(tracing, "read", None))
    spans = _spans(tracing, exporter)
    assert spans["mcp tools/call"].attributes["mcp.session.id"] == session_tag(SESSION)
    for span in spans.values():
        assert all(SESSION not in str(value) for value in (span.attributes or {}).values())


def test_tracing_is_off_unless_configured() -> None:
    config = parse_config(
        {"upstreams": {"files": {"transport": "stdio", "command": "true"}}, "audit": {"path": None}}
    )
    assert config.tracing is None
    core = GatewayCore.from_config(config, guards=[])
    assert core.pipeline.instruments.tracing is None
    assert not core.pipeline.instruments.active
