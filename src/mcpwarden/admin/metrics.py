"""Prometheus metrics, derived from the audit records and read from live state at scrape time.

Counting from the audit stream rather than from scattered calls in the gateway keeps the
two in agreement by construction: a denial that is on the metrics is in the audit file,
and the other way round. Gauges that describe state (live sessions, quarantined
definitions, sink queues) are computed when Prometheus scrapes, not on the request path.

The metrics are served on their own listener (`metrics.listen`), never on the MCP port,
so they need no MCP credentials and a scraper cannot reach an MCP endpoint through them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from mcpwarden.audit.sinks.queue import QueuedSink
from mcpwarden.store.base import Store

log = logging.getLogger("mcpwarden.metrics")

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Label values come from records; anything outside these bounded sets is folded, so a
# hostile client cannot grow the metric series without bound (tool names are client text).
MAX_LABEL_CHARS = 64
# Guards take microseconds to milliseconds; the request buckets above would put them all in one.
GUARD_BUCKETS = (1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.1, 0.5, 2.0)
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)


MAX_SERIES_VALUES = 500


class _Labels:
    """Caps the distinct values of one label: past the cap, new values count as `other`."""

    def __init__(self, cap: int = MAX_SERIES_VALUES) -> None:
        self.cap = cap
        self.seen: set[str] = set()

    def __call__(self, value: Any, default: str = "none") -> str:
        if value is None:
            return default
        text = str(value)[:MAX_LABEL_CHARS]
        if text in self.seen:
            return text
        if len(self.seen) >= self.cap:
            return "other"
        self.seen.add(text)
        return text


class _StateCollector(Collector):
    """Gauges read from live state when scraped."""

    def __init__(
        self,
        live_sessions: Callable[[], int],
        quarantined: Callable[[], int],
        sinks: Callable[[], Sequence[QueuedSink]],
        store_state: Callable[[], dict[str, bool]],
    ) -> None:
        self.live_sessions = live_sessions
        self.quarantined = quarantined
        self.sinks = sinks
        self.store_state = store_state

    def collect(self) -> Iterable[Any]:
        yield GaugeMetricFamily(
            "mcpwarden_live_sessions", "Client sessions open now.", value=self.live_sessions()
        )
        try:
            held = self.quarantined()
        except Exception:  # a locked or missing store must not fail the whole scrape
            log.exception("cannot count quarantined definitions")
            held = -1
        yield GaugeMetricFamily(
            "mcpwarden_quarantined_definitions",
            "Tool, prompt and template definitions held back pending approval (-1: store unreadable).",
            value=held,
        )
        up = GaugeMetricFamily(
            "mcpwarden_store_up",
            "Whether each store backend (sqlite, postgres, redis) answers now (1) or not (0).",
            labels=["backend"],
        )
        try:
            state = self.store_state()
        except Exception:  # a failing probe is a down store, not a failed scrape
            log.exception("cannot probe the store backends")
            state = {}
        for backend, ok in sorted(state.items()):
            up.add_metric([backend], 1.0 if ok else 0.0)
        yield up
        depth = GaugeMetricFamily(
            "mcpwarden_audit_sink_queue_depth", "Audit records waiting in a sink's queue.", labels=["sink"]
        )
        dropped = CounterMetricFamily(
            "mcpwarden_audit_sink_dropped",
            "Audit records a sink dropped (queue full or gave up).",
            labels=["sink"],
        )
        sent = CounterMetricFamily(
            "mcpwarden_audit_sink_sent", "Audit records a sink delivered.", labels=["sink"]
        )
        for sink in self.sinks():
            depth.add_metric([sink.name], sink.depth)
            dropped.add_metric([sink.name], sink.stats.dropped)
            sent.add_metric([sink.name], sink.stats.sent)
        yield depth
        yield dropped
        yield sent


class GatewayMetrics:
    """The gateway's metrics registry; `observe` is an audit observer."""

    def __init__(
        self,
        *,
        live_sessions: Callable[[], int] = lambda: 0,
        quarantined: Callable[[], int] = lambda: 0,
        sinks: Callable[[], Sequence[QueuedSink]] = lambda: (),
        store_state: Callable[[], dict[str, bool]] = dict,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "mcpwarden_requests",
            "Client requests handled, by upstream, method and outcome.",
            ["upstream", "method", "decision"],
            registry=self.registry,
        )
        self.denials = Counter(
            "mcpwarden_denials",
            "Messages denied or rejected, by the guard (or front) that decided and its reason code.",
            ["guard", "reason"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mcpwarden_request_latency_seconds",
            "Time from a request's arrival to its response, by upstream.",
            ["upstream"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.guard_latency = Histogram(
            "mcpwarden_guard_latency_seconds",
            "Time one guard took on one message, by guard and hook (only while metrics are on).",
            ["guard", "hook"],
            buckets=GUARD_BUCKETS,
            registry=self.registry,
        )
        self.detector_score = Histogram(
            "mcpwarden_detector_score",
            "Scores of detector findings that led to a decision or alert, by guard and decision.",
            ["guard", "decision"],
            buckets=SCORE_BUCKETS,
            registry=self.registry,
        )
        self._guard_series: dict[tuple[str, str], Any] = {}
        self.alerts = Counter(
            "mcpwarden_alerts",
            "Alert events, by reason code (anomalies, binding mismatches, quarantined-tool calls).",
            ["reason"],
            registry=self.registry,
        )
        self.registry.register(_StateCollector(live_sessions, quarantined, sinks, store_state))
        self._upstream = _Labels()
        self._method = _Labels()
        self._reason = _Labels()
        self._guard = _Labels()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def observe(self, record: dict[str, Any]) -> None:
        event = record.get("event")
        if event == "request":
            upstream = self._upstream(record.get("upstream"), "gateway")
            decision = str(record.get("decision"))[:MAX_LABEL_CHARS]
            self.requests.labels(upstream, self._method(record.get("method")), decision).inc()
            latency = record.get("latency_ms")
            if isinstance(latency, int | float):
                self.latency.labels(upstream).observe(latency / 1000.0)
        elif event == "decision" and record.get("decision") == "deny":
            self.denials.labels(self._guard(record.get("guard")), self._reason(record.get("reason"))).inc()
            self._score(record)
        elif event == "decision":
            self._score(record)
        elif event == "rejected":
            self.denials.labels("front", self._reason(record.get("reason"))).inc()
        elif event == "alert":
            self.alerts.labels(self._reason(record.get("reason"))).inc()
            self._score(record)

    def _score(self, record: dict[str, Any]) -> None:
        details = record.get("details")
        score = details.get("score") if isinstance(details, dict) else None
        if isinstance(score, int | float) and not isinstance(score, bool):
            decision = str(record.get("decision"))[:MAX_LABEL_CHARS]
            self.detector_score.labels(self._guard(record.get("guard")), decision).observe(float(score))

    def observe_guard(self, guard: str, hook: str, seconds: float) -> None:
        """The pipeline's per-guard timer (`Instruments.guard_timer`); guard names come from
        the config and hooks are a fixed set, so the series stay bounded."""
        series = self._guard_series.get((guard, hook))
        if series is None:
            series = self._guard_series[(guard, hook)] = self.guard_latency.labels(self._guard(guard), hook)
        series.observe(seconds)

    def serve(self, host: str, port: int) -> int:
        """Start the metrics listener in a thread; returns the bound port."""
        self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        return int(self._server.server_address[1])

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def count_held(store: Store) -> int:
    """Definitions not callable as listed: quarantined, rejected, or with a change pending."""
    return sum(1 for p in store.list_pins() if p.status != "approved" or p.pending_hash is not None)


def count_held_definitions(store_path: str) -> int:
    """`count_held` of the SQLite file at `store_path` (opened for this count only)."""
    from mcpwarden.store import SQLiteStore

    store = SQLiteStore(store_path)
    try:
        return count_held(store)
    finally:
        store.close()
