"""Operating a running gateway: metrics, rate limits, the kill switch, the admin API, alerts."""
