"""Anomaly alerts: per-principal baselines, and immediate alerts for events that need no baseline.

An audit observer. For each principal it counts, per window of `window_s` seconds: calls,
distinct tools, bytes returned, denials and injection findings. Finished windows form the
principal's baseline (the last `history_windows`). While a window fills, each new record
re-checks it against the baseline, so a burst is reported as it happens rather than
when its window closes: a metric alerts when it reaches `min_count` and either exceeds
`ratio` times the baseline mean or lies `z_score` standard deviations above it. (The
standard deviation is floored at the square root of the mean, as for a Poisson count, so a
perfectly regular baseline does not make every small rise infinitely unusual.) Each
(principal, metric) alerts at most once per window.

Immediate alerts, whatever the baseline: a call to a quarantined or unapproved tool, a
token issued for another audience, and repeated injection findings within one session.
(A session presented by another principal is already an `alert` record of the gateway.)

Memory is bounded: at most `max_principals` baselines (least recently active dropped), and
per-session injection counts only for sessions still open.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mcpwarden.admin.config import AlertsConfig

EmitFn = Callable[..., None]
GUARD = "anomaly"
METRICS = ("calls", "distinct_tools", "bytes_out", "denials", "injection_findings")
INJECTION_REASONS = frozenset({"content.injection", "content.injection_blocked", "content.injection_flagged"})
BYTES_PER_COUNT = 1024  # bytes_out's `min_count` is in KiB
_ENDED = frozenset({"session.end", "session.killed", "session.revoked"})


@dataclass
class _Principal:
    window_start: float
    counts: dict[str, float] = field(default_factory=lambda: dict.fromkeys(METRICS, 0.0))
    tools: set[str] = field(default_factory=set)
    history: dict[str, deque[float]] = field(default_factory=dict)
    alerted: set[str] = field(default_factory=set)


def _mean_std(values: deque[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / n
    return mean, math.sqrt(var)


class AnomalyDetector:
    def __init__(
        self, config: AlertsConfig, emit: EmitFn, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.emit = emit
        self.clock = clock
        self._principals: OrderedDict[str, _Principal] = OrderedDict()
        self._injections: dict[str, int] = {}
        self._lock = threading.Lock()

    def observe(self, record: dict[str, Any]) -> None:
        if record.get("guard") == GUARD:
            return  # our own alerts
        alerts: list[dict[str, Any]] = []
        with self._lock:
            self._immediate(record, alerts)
            principal = record.get("principal")
            if isinstance(principal, str) and record.get("event") in ("request", "decision", "alert"):
                self._baseline(principal, record, alerts)
        for alert in alerts:
            self.emit("alert", guard=GUARD, decision="alert", **alert)

    # -- immediate ------------------------------------------------------------------------

    def _immediate(self, record: dict[str, Any], alerts: list[dict[str, Any]]) -> None:
        event, reason = record.get("event"), record.get("reason")
        common = {
            k: record[k] for k in ("session", "principal", "upstream", "tool") if record.get(k) is not None
        }
        if event == "decision" and reason == "pin.unapproved" and record.get("method") == "tools/call":
            alerts.append(
                {
                    **common,
                    "reason": "anomaly.quarantined_tool_call",
                    "message": f"call to a quarantined or unapproved tool {record.get('tool')!r}",
                }
            )
        elif event == "rejected" and reason == "token.audience":
            alerts.append(
                {**common, "reason": "anomaly.wrong_audience", "message": "token issued for another audience"}
            )
        sid = record.get("session")
        if not isinstance(sid, str):
            return
        if event in _ENDED:
            self._injections.pop(sid, None)
        elif event in ("decision", "alert") and reason in INJECTION_REASONS:
            n = self._injections.get(sid, 0) + 1
            self._injections[sid] = n
            if n == self.config.injection_findings_per_session:
                alerts.append(
                    {
                        **common,
                        "reason": "anomaly.injection_repeated",
                        "message": f"{n} injection findings in one session",
                        "details": {"findings": n},
                    }
                )

    # -- baselines ------------------------------------------------------------------------

    def _state(self, principal: str, now: float) -> _Principal:
        state = self._principals.pop(principal, None)
        if state is None:
            state = _Principal(window_start=now)
            while len(self._principals) >= self.config.max_principals:
                self._principals.popitem(last=False)
        self._principals[principal] = state
        return state

    def _roll(self, state: _Principal, now: float) -> None:
        window = self.config.window_s
        if now - state.window_start < window:
            return
        elapsed = int((now - state.window_start) // window)
        # The window that ended, then any empty windows the principal was silent for.
        for i in range(min(elapsed, self.config.history_windows)):
            for metric in METRICS:
                hist = state.history.setdefault(metric, deque(maxlen=self.config.history_windows))
                hist.append(state.counts[metric] if i == 0 else 0.0)
        state.window_start += elapsed * window
        state.counts = dict.fromkeys(METRICS, 0.0)
        state.tools = set()
        state.alerted = set()

    def _baseline(self, principal: str, record: dict[str, Any], alerts: list[dict[str, Any]]) -> None:
        now = self.clock()
        state = self._state(principal, now)
        self._roll(state, now)
        event = record.get("event")
        changed: list[str] = []
        if event == "request":
            state.counts["calls"] += 1
            changed.append("calls")
            tool = record.get("tool")
            if isinstance(tool, str) and tool not in state.tools:
                state.tools.add(tool)
                state.counts["distinct_tools"] = len(state.tools)
                changed.append("distinct_tools")
            size = record.get("response_bytes")
            if isinstance(size, int) and size > 0:
                state.counts["bytes_out"] += size
                changed.append("bytes_out")
        else:
            if record.get("decision") == "deny":
                state.counts["denials"] += 1
                changed.append("denials")
            if record.get("reason") in INJECTION_REASONS:
                state.counts["injection_findings"] += 1
                changed.append("injection_findings")
        for metric in changed:
            alert = self._check(state, metric)
            if alert is not None:
                alerts.append({"principal": principal, **alert})

    def _check(self, state: _Principal, metric: str) -> dict[str, Any] | None:
        if metric in state.alerted:
            return None
        hist = state.history.get(metric)
        if hist is None or len(hist) < self.config.min_windows:
            return None
        value = state.counts[metric]
        floor = self.config.min_count * (BYTES_PER_COUNT if metric == "bytes_out" else 1)
        if value < floor:
            return None
        mean, std = _mean_std(hist)
        spread = max(std, math.sqrt(mean), 1.0)
        z = (value - mean) / spread
        ratio = value / mean if mean > 0 else math.inf
        if ratio < self.config.ratio and z < self.config.z_score:
            return None
        state.alerted.add(metric)
        return {
            "reason": f"anomaly.{metric}",
            "message": f"{metric} {value:g} this window against a baseline of {mean:.1f} (z {z:.1f})",
            "details": {
                "metric": metric,
                "value": value,
                "baseline_mean": round(mean, 3),
                "baseline_std": round(std, 3),
                "z_score": round(z, 2) if math.isfinite(z) else None,
                "ratio": round(ratio, 2) if math.isfinite(ratio) else None,
                "windows": len(hist),
            },
        }
