"""The finer metrics: detector scores from decision records, guard latency from the pipeline."""

from __future__ import annotations

from prometheus_client import generate_latest

from mcpwarden.admin.metrics import GatewayMetrics


def _text(metrics: GatewayMetrics) -> str:
    return generate_latest(metrics.registry).decode()


def test_a_detectors_score_lands_in_the_score_histogram_by_guard_and_decision() -> None:
    metrics = GatewayMetrics()
    metrics.observe(
        {"event": "decision", "guard": "content", "decision": "rewrite", "details": {"score": 0.87}}
    )
    metrics.observe({"event": "alert", "guard": "poisoning", "decision": "alert", "details": {"score": 0.42}})
    text = _text(metrics)
    assert 'mcpwarden_detector_score_bucket{decision="rewrite",guard="content",le="0.9"} 1.0' in text
    assert 'mcpwarden_detector_score_bucket{decision="rewrite",guard="content",le="0.8"} 0.0' in text
    assert 'mcpwarden_detector_score_count{decision="alert",guard="poisoning"} 1.0' in text


def test_records_without_a_numeric_score_add_no_observation() -> None:
    metrics = GatewayMetrics()
    metrics.observe(
        {"event": "decision", "guard": "policy", "decision": "deny", "details": {"score": "high"}}
    )
    assert "mcpwarden_detector_score_count" not in _text(metrics)


def test_guard_timings_are_histograms_by_guard_and_hook() -> None:
    metrics = GatewayMetrics()
    metrics.observe_guard("pinning", "tools_list", 0.00003)
    metrics.observe_guard("pinning", "tools_list", 0.002)
    text = _text(metrics)
    assert 'mcpwarden_guard_latency_seconds_count{guard="pinning",hook="tools_list"} 2.0' in text
    assert 'mcpwarden_guard_latency_seconds_bucket{guard="pinning",hook="tools_list",le="5e-05"} 1.0' in text
