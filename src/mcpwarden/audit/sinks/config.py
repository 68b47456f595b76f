"""Configuration of the audit sinks (`audit.sinks` in the gateway config), one model per kind."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class QueueSettings(BaseModel):
    """Bounds shared by every sink: how much may wait, how it is batched and retried."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="Label in metrics and logs (default: the sink type).")
    max_queue: int = Field(10_000, ge=1, le=1_000_000, description="Records waiting before new ones drop.")
    batch_size: int = Field(100, ge=1, le=10_000)
    flush_interval_s: float = Field(0.2, gt=0, le=60)
    max_attempts: int = Field(5, ge=1, le=100, description="Tries per batch before it is dropped.")
    retry_initial_s: float = Field(0.2, gt=0, le=60, description="First backoff; doubles per retry.")
    retry_max_s: float = Field(10.0, gt=0, le=600)
    close_timeout_s: float = Field(5.0, ge=0, le=120, description="How long shutdown waits to drain.")

    def queue_kwargs(self) -> dict[str, Any]:
        """The settings `QueuedSink.__init__` takes."""
        return self.model_dump(include=set(QueueSettings.model_fields) - {"name"})


class StdoutSinkConfig(QueueSettings):
    type: Literal["stdout"]


class SyslogSinkConfig(QueueSettings):
    type: Literal["syslog"]
    host: str = "127.0.0.1"
    port: int = Field(514, ge=1, le=65535)
    transport: Literal["udp", "tcp", "tls"] = "udp"
    facility: int = Field(13, ge=0, le=23, description="Syslog facility (13: log audit).")
    app_name: str = "mcpwarden"
    hostname: str | None = Field(None, description="HOSTNAME field (default: this host's name).")
    max_message_bytes: int = Field(8192, ge=480, le=65_000)
    ca_file: str | None = Field(None, description="CA bundle for `tls` (default: the system's).")
    server_name: str | None = Field(None, description="Name the TLS certificate must carry (default: host).")


class WebhookSinkConfig(QueueSettings):
    type: Literal["webhook"]
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    bearer_token: str | None = Field(None, description="Secret reference (`env:NAME`, `file:PATH`).")
    timeout_s: float = Field(5.0, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return v


class OtlpSinkConfig(QueueSettings):
    type: Literal["otlp"]
    endpoint: str = Field(description="OTLP/HTTP logs URL, e.g. http://127.0.0.1:4318/v1/logs.")
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = Field(5.0, gt=0, le=120)
    service_name: str = "mcpwarden"

    @field_validator("endpoint")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("endpoint must start with http:// or https://")
        return v


SinkConfig = Annotated[
    StdoutSinkConfig | SyslogSinkConfig | WebhookSinkConfig | OtlpSinkConfig, Field(discriminator="type")
]
