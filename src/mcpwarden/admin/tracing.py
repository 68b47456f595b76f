"""OpenTelemetry traces: a span per client request, per guard hook and per upstream call.

Off unless `tracing` is configured; the gateway then holds no `Tracing` at all and the hot
path pays one `is None` test. When on, spans go through the OpenTelemetry SDK (its own
provider, not the process-global one, so a library in the same process cannot redirect
them) and a `BatchSpanProcessor`, whose bounded queue and export thread keep a collector
that is down off the request path: spans beyond the queue are dropped, never waited for.

Trace context crosses MCP the way MCP carries metadata: W3C `traceparent` / `tracestate`
in the request's `params._meta`. A client that sends them makes the gateway's request span
its child; each upstream request gets the context of the gateway's upstream span, so the
upstream's own spans join the same trace.

Span attributes never carry the session id (a bearer credential for the session): only
the 16-hex-character handle that `mcpwarden sessions` shows. Arguments and results are
not recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, ParentBasedTraceIdRatio
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from mcpwarden import __version__
from mcpwarden.types import Decision

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACE_KEYS = ("traceparent", "tracestate")
# Request outcomes that mark the request span as failed.
_FAILED = frozenset({"deny", "error", "refused"})


def session_tag(session_id: str) -> str:
    """What spans say instead of the session id: the handle `mcpwarden sessions` lists."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:16]


@dataclass(slots=True)
class RequestSpan:
    """A started request span and the context token that made it current in its task."""

    span: Span
    token: object


class Tracing:
    """The gateway's tracer; see the module docstring."""

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        service_name: str = "mcpwarden",
        sample_ratio: float = 1.0,
        propagate: bool = True,
        guard_spans: bool = True,
        max_queue: int = 2048,
        schedule_delay_s: float = 1.0,
    ) -> None:
        resource = Resource.create({"service.name": service_name, "service.version": __version__})
        sampler = ParentBased(ALWAYS_ON) if sample_ratio >= 1 else ParentBasedTraceIdRatio(sample_ratio)
        self.provider = TracerProvider(resource=resource, sampler=sampler)
        self.processor = BatchSpanProcessor(
            exporter,
            max_queue_size=max_queue,
            max_export_batch_size=min(512, max_queue),
            schedule_delay_millis=int(schedule_delay_s * 1000),
        )
        self.provider.add_span_processor(self.processor)
        self.tracer = self.provider.get_tracer("mcpwarden", __version__)
        self.propagate = propagate
        # Off: no span per guard hook (about half the spans of a call), the rest unchanged.
        self.guard_spans = guard_spans

    # -- request --------------------------------------------------------------------------

    def start_request(
        self, method: str, session_id: str, principal: str, params: Mapping[str, Any]
    ) -> RequestSpan:
        """Start the span of one client request and make it current in the calling task.

        The client's `_meta` trace context, if any, is the parent.
        """
        meta = params.get("_meta")
        parent = None
        if isinstance(meta, Mapping):
            carrier = {k: str(meta[k]) for k in _TRACE_KEYS if isinstance(meta.get(k), str)}
            if carrier:
                parent = _PROPAGATOR.extract(carrier)
        span = self.tracer.start_span(
            f"mcp {method}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                "mcp.method.name": method,
                "mcp.session.id": session_tag(session_id),
                "mcpwarden.principal": principal,
            },
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        return RequestSpan(span, token)

    def finish_request(self, started: RequestSpan, record: Mapping[str, Any]) -> None:
        """End the request span with its outcome (the request's audit fields)."""
        span = started.span
        attributes = {
            f"mcpwarden.{key}": str(record[key])
            for key in ("upstream", "tool", "decision", "guard", "reason")
            if record.get(key) is not None
        }
        if record.get("tool") is not None:
            attributes["gen_ai.tool.name"] = str(record["tool"])
        span.set_attributes(attributes)  # one lock and one pass, not one per attribute
        decision = record.get("decision")
        if decision in _FAILED:
            span.set_status(Status(StatusCode.ERROR, str(record.get("reason") or decision)))
        span.end()
        # A token from another context (a cancelled task) cannot be detached: nothing to restore.
        with contextlib.suppress(ValueError):
            otel_context.detach(started.token)  # type: ignore[arg-type]

    # -- guards and upstream calls --------------------------------------------------------

    def guard_span(self, guard: str, hook: str) -> Span:
        """Start the span of one guard hook, a child of the current request span.

        It is not made current (a guard starts no spans of its own), which saves the context
        switch on every guard; `end_guard` ends it.
        """
        return self.tracer.start_span(
            f"guard {guard}",
            kind=SpanKind.INTERNAL,
            attributes={"mcpwarden.guard": guard, "mcpwarden.hook": hook},
            record_exception=False,
            set_status_on_exception=False,
        )

    @staticmethod
    def end_guard(span: Span, decision: Decision | None, *, failed: bool = False) -> None:
        """Record what the guard decided (`pass` for no decision) and end its span."""
        if failed:
            span.set_attribute("mcpwarden.decision", "error")
            span.set_status(Status(StatusCode.ERROR, "the guard raised"))
        elif decision is None or decision.kind == "pass":
            span.set_attribute("mcpwarden.decision", "pass")
        else:
            span.set_attributes(
                {"mcpwarden.decision": decision.kind, "mcpwarden.reason": decision.reason or ""}
            )
            if decision.kind == "deny":
                span.set_status(Status(StatusCode.ERROR, decision.reason or "denied"))
        span.end()

    @contextmanager
    def upstream_call(self, upstream: str, method: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """A client span around a request to an upstream; yields the params to send, with the
        span's trace context in `_meta` (a copy: the caller's dict is not changed)."""
        span = self.tracer.start_span(
            f"upstream {upstream} {method}",
            kind=SpanKind.CLIENT,
            attributes={"mcp.method.name": method, "mcpwarden.upstream": upstream},
        )
        try:
            if not self.propagate:
                yield params
                return
            carrier: dict[str, str] = {}
            _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
            meta = params.get("_meta")
            merged = {**meta, **carrier} if isinstance(meta, dict) else carrier
            yield {**params, "_meta": merged}
        finally:
            span.end()

    def close(self) -> None:
        """Export what is queued (bounded by the exporter's timeout) and stop."""
        self.provider.shutdown()


def build_tracing(config: Any) -> Tracing | None:
    """A `Tracing` for the `tracing` config section, or None when it is unset."""
    if config is None:
        return None
    from mcpwarden.auth.secrets import resolve_secret

    headers = {
        name: resolve_secret(value) if value.startswith(("env:", "file:")) else value
        for name, value in config.headers.items()
    }
    exporter = OTLPSpanExporter(endpoint=config.endpoint, headers=headers or None, timeout=config.timeout_s)
    return Tracing(
        exporter,
        service_name=config.service_name,
        sample_ratio=config.sample_ratio,
        propagate=config.propagate,
        guard_spans=config.guard_spans,
        max_queue=config.max_queue,
    )
