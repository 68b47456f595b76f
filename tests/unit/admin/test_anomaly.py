"""Anomaly alerts: a burst against a principal's baseline, and the immediate alerts."""

from __future__ import annotations

from typing import Any

from mcpwarden.admin.anomaly import AnomalyDetector
from mcpwarden.admin.config import AlertsConfig


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []

    def __call__(self, event: str, **fields: Any) -> None:
        self.alerts.append({"event": event, **fields})


def _call(
    principal: str = "alice", tool: str = "read", size: int = 100, session: str = "s1"
) -> dict[str, Any]:
    return {
        "event": "request",
        "principal": principal,
        "session": session,
        "upstream": "files",
        "method": "tools/call",
        "tool": tool,
        "decision": "allow",
        "response_bytes": size,
    }


def _detector(**overrides: Any) -> tuple[AnomalyDetector, Clock, Recorder]:
    clock, rec = Clock(), Recorder()
    settings: dict[str, Any] = {"window_s": 60, "min_windows": 5, "ratio": 5, "z_score": 4, "min_count": 20}
    config = AlertsConfig(**{**settings, **overrides})
    return AnomalyDetector(config, rec, clock=clock), clock, rec


def _baseline(det: AnomalyDetector, clock: Clock, windows: int = 6, per_window: int = 8) -> None:
    for _ in range(windows):
        for _ in range(per_window):
            det.observe(_call())
        clock.now += 60


def test_a_burst_of_calls_raises_one_alert_with_the_baseline() -> None:
    det, clock, rec = _detector()
    _baseline(det, clock)
    for _ in range(100):
        det.observe(_call())
    calls = [a for a in rec.alerts if a["reason"] == "anomaly.calls"]
    assert len(calls) == 1
    alert = calls[0]
    assert alert["event"] == "alert" and alert["guard"] == "anomaly" and alert["principal"] == "alice"
    assert alert["details"]["baseline_mean"] == 8.0
    assert alert["details"]["value"] >= 20


def test_usual_traffic_raises_no_alert() -> None:
    det, clock, rec = _detector()
    _baseline(det, clock, windows=12, per_window=30)
    assert rec.alerts == []


def test_no_alert_before_the_baseline_has_enough_windows() -> None:
    det, clock, rec = _detector()
    _baseline(det, clock, windows=2)
    for _ in range(200):
        det.observe(_call())
    assert rec.alerts == []


def test_baselines_are_per_principal() -> None:
    det, clock, rec = _detector()
    _baseline(det, clock)
    for _ in range(100):
        det.observe(_call(principal="bob"))
    assert rec.alerts == []  # bob has no history yet; alice's is not his


def test_many_distinct_tools_alert_on_their_own_metric() -> None:
    det, clock, rec = _detector(min_count=10)
    _baseline(det, clock)
    for n in range(30):
        det.observe(_call(tool=f"tool{n}"))
    assert any(a["reason"] == "anomaly.distinct_tools" for a in rec.alerts)


def test_call_to_a_quarantined_tool_alerts_at_once() -> None:
    det, _, rec = _detector()
    det.observe(
        {
            "event": "decision",
            "principal": "alice",
            "session": "s1",
            "method": "tools/call",
            "tool": "exfil",
            "decision": "deny",
            "guard": "pinning",
            "reason": "pin.unapproved",
        }
    )
    assert [a["reason"] for a in rec.alerts] == ["anomaly.quarantined_tool_call"]


def test_token_for_another_audience_alerts_at_once() -> None:
    det, _, rec = _detector()
    det.observe(
        {"event": "rejected", "reason": "token.audience", "message": "token was issued for another resource"}
    )
    assert [a["reason"] for a in rec.alerts] == ["anomaly.wrong_audience"]


def test_repeated_injection_findings_in_one_session_alert_once() -> None:
    det, _, rec = _detector(injection_findings_per_session=3)
    finding = {"event": "decision", "principal": "alice", "session": "s1", "reason": "content.injection"}
    for _ in range(2):
        det.observe(finding)
    det.observe({**finding, "session": "s2"})
    assert rec.alerts == []
    for _ in range(5):
        det.observe(finding)
    assert [a["reason"] for a in rec.alerts] == ["anomaly.injection_repeated"]
    assert rec.alerts[0]["session"] == "s1"


def test_own_alerts_are_not_observed_again() -> None:
    det, _, rec = _detector()
    det.observe({"event": "alert", "guard": "anomaly", "reason": "anomaly.calls", "principal": "alice"})
    assert rec.alerts == []


def test_tracked_principals_are_bounded() -> None:
    det, _, _ = _detector(max_principals=10)
    for n in range(100):
        det.observe(_call(principal=f"p{n}"))
    assert len(det._principals) == 10
