"""Building the configured sinks."""

from __future__ import annotations

from collections.abc import Sequence

from mcpwarden.audit.sinks.config import (
    OtlpSinkConfig,
    SinkConfig,
    StdoutSinkConfig,
    SyslogSinkConfig,
    WebhookSinkConfig,
)
from mcpwarden.audit.sinks.queue import QueuedSink


def build_sink(cfg: SinkConfig, *, replica: str | None = None) -> QueuedSink:
    """One sink; `replica` names this gateway where a sink has a field for it beyond the records."""
    queue = cfg.queue_kwargs()
    name = cfg.name or cfg.type
    if isinstance(cfg, StdoutSinkConfig):
        from mcpwarden.audit.sinks.stdout import StdoutSink

        return StdoutSink(name, **queue)
    if isinstance(cfg, SyslogSinkConfig):
        from mcpwarden.audit.sinks.syslog import SyslogSink

        return SyslogSink(
            name,
            host=cfg.host,
            port=cfg.port,
            transport=cfg.transport,
            facility=cfg.facility,
            app_name=cfg.app_name,
            hostname=cfg.hostname,
            max_message_bytes=cfg.max_message_bytes,
            ca_file=cfg.ca_file,
            server_name=cfg.server_name,
            **queue,
        )
    if isinstance(cfg, WebhookSinkConfig):
        from mcpwarden.audit.sinks.webhook import WebhookSink

        return WebhookSink(
            name,
            url=cfg.url,
            headers=cfg.headers,
            bearer_token=cfg.bearer_token,
            timeout_s=cfg.timeout_s,
            **queue,
        )
    if isinstance(cfg, OtlpSinkConfig):
        from mcpwarden.audit.sinks.otlp import OtlpSink

        return OtlpSink(
            name,
            endpoint=cfg.endpoint,
            headers=cfg.headers,
            timeout_s=cfg.timeout_s,
            service_name=cfg.service_name,
            instance_id=replica,
            **queue,
        )
    raise ValueError(f"unknown sink type {cfg!r}")


def build_sinks(configs: Sequence[SinkConfig], *, replica: str | None = None) -> list[QueuedSink]:
    names: set[str] = set()
    sinks = []
    for cfg in configs:
        sink = build_sink(cfg, replica=replica)
        if sink.name in names:
            raise ValueError(f"two audit sinks are named {sink.name!r}; give each a distinct name")
        names.add(sink.name)
        sinks.append(sink)
    return sinks
