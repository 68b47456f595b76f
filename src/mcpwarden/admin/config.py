"""Configuration of the operations layer: metrics, admin API, rate limits, anomaly alerts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT` (IPv6 as `[::1]:PORT`) into its parts."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"listen must be HOST:PORT, got {value!r}")
    host = host.removeprefix("[").removesuffix("]")
    number = int(port)
    if not 0 <= number <= 65535:
        raise ValueError("port must be 0-65535")
    return host, number


class _Listener(_Model):
    listen: str = Field(description="HOST:PORT of this listener (its own port, never the MCP one).")

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        parse_listen(v)
        return v

    def address(self) -> tuple[str, int]:
        return parse_listen(self.listen)


class MetricsConfig(_Listener):
    """Prometheus `/metrics` on a separate listener (loopback by default: put it behind your scraper)."""

    listen: str = "127.0.0.1:9464"


class AdminConfig(_Listener):
    """The admin HTTP API (kill switch, sessions), authenticated by its own bearer token."""

    listen: str = "127.0.0.1:8767"
    token: str = Field(
        description="Secret reference (`env:NAME` or `file:PATH`) to the admin bearer token. It is "
        "never one of the MCP endpoints' tokens: MCP access tokens are not accepted here."
    )

    @field_validator("token")
    @classmethod
    def _ref(cls, v: str) -> str:
        if not v.startswith(("env:", "file:")):
            raise ValueError("token must be a secret reference: env:NAME or file:PATH")
        return v


class RateConfig(_Model):
    rate: float = Field(gt=0, description="Sustained calls per second.")
    burst: int = Field(ge=1, description="Calls allowed at once before the rate applies.")


class LimitsConfig(_Model):
    """Token-bucket rate limits and concurrency caps. Unset entries do not limit."""

    per_principal: RateConfig | None = Field(
        None, description="Every request of one principal (HTTP: 429 with Retry-After)."
    )
    per_upstream: RateConfig | None = Field(None, description="Default for each upstream (all callers).")
    upstreams: dict[str, RateConfig] = Field(default_factory=dict, description="Per-upstream overrides.")
    per_tool: RateConfig | None = Field(None, description="Default for each tool (all callers).")
    tools: dict[str, RateConfig] = Field(
        default_factory=dict, description="Overrides by `UPSTREAM/TOOL` or bare tool name."
    )
    max_concurrent_per_session: int | None = Field(None, ge=1)
    max_concurrent_per_principal: int | None = Field(None, ge=1)
    max_keys: int = Field(100_000, ge=100, description="Buckets tracked at most (least recently used go).")


class AlertsConfig(_Model):
    """Anomaly detection on per-principal baselines, and immediate alerts."""

    window_s: float = Field(60.0, gt=0, description="Length of one baseline window.")
    min_windows: int = Field(5, ge=2, description="Windows of history before baselines are trusted.")
    history_windows: int = Field(60, ge=2, le=10_000, description="Windows a baseline remembers.")
    ratio: float = Field(5.0, gt=1, description="Alert when a window exceeds this multiple of the mean ...")
    z_score: float = Field(4.0, gt=0, description="... and this many standard deviations above it.")
    min_count: int = Field(20, ge=1, description="Windows with fewer events never alert (noise).")
    injection_findings_per_session: int = Field(
        3, ge=1, description="Injection findings in one session that raise an immediate alert."
    )
    max_principals: int = Field(10_000, ge=1, description="Principals tracked at most.")


class TracingConfig(_Model):
    """OpenTelemetry traces over OTLP/HTTP (off when the section is absent)."""

    endpoint: str = Field(
        "http://127.0.0.1:4318/v1/traces", description="OTLP/HTTP traces URL of the collector."
    )
    service_name: str = Field("mcpwarden", min_length=1, max_length=200)
    sample_ratio: float = Field(
        1.0, ge=0, le=1, description="Share of traces kept when the client sent no sampled trace context."
    )
    propagate: bool = Field(
        True, description="Send W3C traceparent/tracestate to upstreams in each request's params._meta."
    )
    guard_spans: bool = Field(
        True, description="A span per guard hook (false: request and upstream spans only, for less overhead)."
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Extra HTTP headers for the collector; values may be secret references (env:, file:).",
    )
    timeout_s: float = Field(5.0, gt=0, le=60, description="Per export request.")
    max_queue: int = Field(
        2048, ge=16, le=1_000_000, description="Spans waiting for export before new ones drop."
    )

    @field_validator("endpoint")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("endpoint must be an http:// or https:// URL")
        return v
