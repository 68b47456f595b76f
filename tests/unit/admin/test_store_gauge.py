"""The `mcpwarden_store_up` gauge: each store backend up or down, probed at scrape time."""

from __future__ import annotations

from prometheus_client import generate_latest

from mcpwarden.admin.metrics import GatewayMetrics


def scrape(metrics: GatewayMetrics) -> str:
    return generate_latest(metrics.registry).decode()


def test_each_backend_is_one_when_up_and_zero_when_down() -> None:
    text = scrape(GatewayMetrics(store_state=lambda: {"postgres": True, "redis": False}))
    assert 'mcpwarden_store_up{backend="postgres"} 1.0' in text
    assert 'mcpwarden_store_up{backend="redis"} 0.0' in text


def test_a_probe_that_fails_leaves_the_rest_of_the_scrape_intact() -> None:
    def broken() -> dict[str, bool]:
        raise RuntimeError("probe failed")

    text = scrape(GatewayMetrics(store_state=broken, live_sessions=lambda: 3))
    assert "mcpwarden_store_up{" not in text
    assert "mcpwarden_live_sessions 3.0" in text
