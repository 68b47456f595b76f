"""Typed gateway configuration, loaded from one YAML file.

Everything security-relevant defaults to the safe choice: loopback bind, Origin and Host
checks on, a body size limit, deny nothing extra but forward nothing unknown from the
gateway's own environment to stdio children.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from mcpwarden.admin.config import AdminConfig, AlertsConfig, LimitsConfig, MetricsConfig, TracingConfig
from mcpwarden.audit.rotate_config import RotateConfig
from mcpwarden.audit.sinks.config import SinkConfig
from mcpwarden.auth.config import AuthConfig
from mcpwarden.authserver.config import AuthServerConfig
from mcpwarden.config_upstreams import UPSTREAM_NAME_PATTERN as UPSTREAM_NAME_PATTERN
from mcpwarden.config_upstreams import HttpUpstream as HttpUpstream
from mcpwarden.config_upstreams import PinningMode as PinningMode
from mcpwarden.config_upstreams import StdioUpstream as StdioUpstream
from mcpwarden.config_upstreams import ToolFilter as ToolFilter
from mcpwarden.config_upstreams import Upstream as Upstream
from mcpwarden.config_upstreams import _Model
from mcpwarden.egress import EgressDenied, EgressPolicy
from mcpwarden.store.config import ReplicaConfig, StoreConfig
from mcpwarden.types import FileUse

SUPPORTED_PROTOCOL_VERSIONS: tuple[str, ...] = ("2025-03-26", "2025-06-18", "2025-11-25")
LATEST_PROTOCOL_VERSION = SUPPORTED_PROTOCOL_VERSIONS[-1]


class ListenConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)
    allow_unauthenticated_remote: bool = Field(
        False,
        description="Permit binding a non-loopback address without client authentication. "
        "Off by default: anyone who can reach the port could use every upstream.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Peer addresses (IPs or CIDRs) whose X-Forwarded-For/-Proto headers are believed. "
        "Empty by default: forwarded headers from anyone else are ignored.",
    )
    header_timeout_s: float = Field(
        10.0, gt=0, description="A request's headers must arrive within this; otherwise 408 and close."
    )
    body_timeout_s: float = Field(
        30.0, gt=0, description="A POST body must arrive within this; otherwise 408 (slow clients)."
    )
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Worker processes serving this address (`serve --workers N`): one process per "
        "core uses every core. 1 (default): one process, no supervisor. See docs/configuration.md.",
    )
    fd_reserve: int = Field(
        64,
        ge=8,
        description="New connections get 503 when open descriptors come this close to RLIMIT_NOFILE, "
        "keeping the rest for upstreams, stdio children, the audit file and the store.",
    )

    def is_loopback(self) -> bool:
        import ipaddress

        if self.host in ("localhost",):
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


class SecurityConfig(_Model):
    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["127.0.0.1:*", "localhost:*", "[::1]:*"],
        description="Host header values accepted (`*` as the port matches any port).",
    )
    allowed_origins: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        description="Origin values accepted when a client sends one (absent Origin is accepted).",
    )
    max_body_bytes: int = Field(4 * 1_048_576, gt=0)
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins (exact, or with `*` as in allowed_origins) whose browser pages may call the "
        "gateway and read its answers (CORS: preflight, Mcp-Session-Id and WWW-Authenticate exposed). "
        "Empty by default: no CORS headers at all. Listed origins are also allowed by the Origin check.",
    )


class SessionConfig(_Model):
    idle_timeout_s: float = Field(1800.0, gt=0)
    max_age_s: float = Field(86400.0, gt=0)
    max_sessions: int = Field(10_000, gt=0)
    max_sessions_per_principal: int = Field(
        256, gt=0, description="One principal's live sessions; beyond it initialize gets 429 session.quota."
    )
    max_stdio_children: int = Field(
        256, gt=0, description="stdio server processes the gateway runs at once, all sessions together."
    )
    max_stdio_children_per_principal: int = Field(
        32, gt=0, description="stdio server processes started for one principal's sessions."
    )
    max_streams_per_session: int = Field(
        4, gt=0, description="Open GET event streams per session; beyond it 429 stream.limit."
    )
    max_streams_per_principal: int = Field(
        256, gt=0, description="Open GET event streams of one principal, all sessions together."
    )
    max_batch: int = Field(
        32, gt=0, description="Most messages in one JSON-RPC batch (only under 2025-03-26); more is refused."
    )
    max_in_flight: int = Field(
        64, gt=0, description="Most client requests one session may have unanswered at once."
    )
    max_in_flight_per_principal: int = Field(
        256, gt=0, description="Most unanswered client requests of one principal over all its sessions."
    )
    sse_retry_ms: int = Field(
        1000, gt=0, description="`retry:` hint (ms) in the priming event of each SSE stream towards clients."
    )
    stream_replay_events: int = Field(
        64, gt=0, description="Newest events kept per SSE stream for resumption with Last-Event-ID."
    )
    stream_replay_bytes: int = Field(
        1_048_576, gt=0, description="Bytes kept per SSE stream for resumption (the newest event always is)."
    )
    stream_replay_s: float = Field(
        300.0, gt=0, description="Seconds an SSE stream nobody reads stays resumable with Last-Event-ID."
    )


class InputRequiredConfig(_Model):
    """Input-required results for 2026-07-28 clients of handshake-era upstreams (docs/eras.md)."""

    key: str | None = Field(
        None,
        description="Secret reference (`env:NAME` or `file:PATH`, at least 16 bytes) to the HMAC key that "
        "protects the gateway's requestState. Unset: a random key per process (held calls are in memory).",
    )
    ttl_s: float = Field(300.0, gt=0, le=86_400, description="How long a client has to retry with its input.")
    max_held_per_principal: int = Field(
        32, gt=0, description="Calls of one principal held for input at once; the oldest gives way."
    )

    @field_validator("key")
    @classmethod
    def _ref(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("env:", "file:")):
            raise ValueError("key must be a secret reference: env:NAME or file:PATH")
        return v


class CheckpointConfig(_Model):
    """Ed25519-signed checkpoints of the audit chain (see docs/audit.md, "Signed checkpoints")."""

    key: Annotated[
        str,
        FileUse(
            "secret",
            "an Ed25519 private key (PEM, `mcpwarden audit keygen` writes one)",
            parse="mcpwarden.audit.checkpoint:load_private_key",
        ),
    ] = Field(description="Secret reference (`env:NAME` or `file:PATH`) to the Ed25519 private key (PEM).")
    every: int = Field(1000, ge=1, le=10_000_000, description="Sign a checkpoint every this many records.")
    on_audit_loss: Literal["refuse", "continue"] = Field(
        "refuse",
        description="When the audit file was deleted, replaced or no longer matches its checkpoints: "
        "`refuse` to start (and refuse requests if it happens while running), or `continue` with an alert.",
    )

    @field_validator("key")
    @classmethod
    def _ref(cls, v: str) -> str:
        if not v.startswith(("env:", "file:")):
            raise ValueError("key must be a secret reference: env:NAME or file:PATH")
        return v


class AuditConfig(_Model):
    path: Annotated[str | None, FileUse("write", "a file the gateway can create and append to")] = Field(
        "var/audit.jsonl", description="JSONL audit file (null: no audit file)."
    )
    fsync: Literal["always", "interval", "never"] = "interval"
    include_raw_arguments: bool = False
    on_failure: Literal["refuse", "continue"] = Field(
        "refuse",
        description="When a request's record cannot be written (disk full, I/O error): `refuse` answers "
        "it with a JSON-RPC error (reason audit.unavailable) and forwards nothing; `continue` serves it "
        "unaudited. Either way the failure is logged and, once the log is writable again, recorded.",
    )
    checkpoint: CheckpointConfig | None = Field(None, description="Signed checkpoints (off when unset).")
    rotate: RotateConfig | None = Field(
        None, description="Rotate the file by size or age; the chain goes on across files (off when unset)."
    )
    sink_process: bool = Field(
        True,
        description="Run the sinks (redaction, formatting, sending) in a child process, off the gateway's "
        "interpreter lock; false: as threads in the gateway.",
    )
    sinks: list[SinkConfig] = Field(
        default_factory=list,
        description="Where else records go (stdout, syslog, webhook, otlp), each behind a bounded queue; "
        "redacted first. The file above still gets every record when a sink is down.",
    )


class GatewayConfig(_Model):
    """The whole `mcpwarden serve` / `mcpwarden wrap` configuration file."""

    auth: AuthConfig | None = Field(
        None,
        description="OAuth 2.1 resource server settings (see docs/auth.md). Unset: anonymous local mode, "
        "loopback only unless listen.allow_unauthenticated_remote.",
    )
    authorization_server: AuthServerConfig | None = Field(
        None,
        description="The gateway as OAuth authorization server for MCP clients, with per-client consent "
        "and per-user third-party tokens (see docs/auth.md). Implies `auth.issuer` = its issuer.",
    )
    public_url: str | None = Field(
        None,
        description="The gateway's public base URL (scheme://host[:port], no path). Endpoint resource URLs "
        "(audiences, metadata) are this plus /mcp or /servers/<name>/mcp. Default: from listen host/port.",
    )
    policy: Annotated[
        str | None,
        FileUse(
            "read", "a policy file (YAML, see docs/policy.md)", parse="mcpwarden.policy.model:load_policy"
        ),
    ] = Field(
        None, description="Least-privilege policy file (YAML, see docs/policy.md). Unset: no policy guard."
    )

    listen: ListenConfig = Field(default_factory=ListenConfig)
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    sessions: SessionConfig = Field(default_factory=SessionConfig)
    input_required: InputRequiredConfig = Field(default_factory=InputRequiredConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    replica: ReplicaConfig = Field(default_factory=ReplicaConfig)
    upstreams: dict[str, Upstream] = Field(default_factory=dict)
    metrics: MetricsConfig | None = Field(None, description="Prometheus /metrics on its own listener.")
    admin: AdminConfig | None = Field(None, description="Admin HTTP API (kill switch, sessions).")
    tracing: TracingConfig | None = Field(
        None,
        description="OpenTelemetry spans per request, guard and upstream call (OTLP/HTTP; off when unset).",
    )
    limits: LimitsConfig | None = Field(None, description="Rate limits and concurrency caps.")
    alerts: AlertsConfig | None = Field(None, description="Anomaly alerts (baselines per principal).")

    @field_validator("public_url")
    @classmethod
    def _base_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from urllib.parse import urlsplit

        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("public_url must be an absolute http(s) URL")
        if parts.path.strip("/") or parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError(
                "public_url is scheme://host[:port] only: endpoints and metadata live at fixed paths under it"
            )
        return f"{parts.scheme.lower()}://{parts.netloc.lower()}"

    def public_base(self, port: int | None = None) -> str:
        """The base URL endpoint resources are built on; `port` is the one actually bound."""
        if self.public_url:
            return self.public_url
        host = self.listen.host
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port if port is not None else self.listen.port}"

    @model_validator(mode="before")
    @classmethod
    def _auth_from_authorization_server(cls, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and isinstance(data.get("authorization_server"), dict)
            and not data.get("auth")
        ):
            issuer = data["authorization_server"].get("issuer")
            if isinstance(issuer, str):
                return {**data, "auth": {"issuer": issuer.rstrip("/")}}
        return data

    @model_validator(mode="after")
    def _user_oauth_providers(self) -> GatewayConfig:
        from fnmatch import fnmatchcase

        from mcpwarden.auth.config import UserOAuthCredentials

        known = set(self.authorization_server.third_parties) if self.authorization_server else set()
        for name, up in self.upstreams.items():
            creds = getattr(up, "credentials", None)
            if isinstance(creds, UserOAuthCredentials) and creds.provider not in known:
                raise ValueError(
                    f"upstreams.{name}.credentials: provider {creds.provider!r} is not in "
                    "authorization_server.third_parties"
                )
        if self.authorization_server and self.auth and self.auth.issuer != self.authorization_server.issuer:
            raise ValueError(
                "auth.issuer must equal authorization_server.issuer (the gateway issues the tokens)"
            )
        if self.authorization_server:
            # The consent form posts from the issuer's own pages: its origin is always legitimate.
            origin = self.authorization_server.issuer
            if not any(fnmatchcase(origin, p) for p in self.security.allowed_origins):
                self.security.allowed_origins.append(origin)
        return self

    @field_validator("upstreams", mode="after")
    @classmethod
    def _check_names(cls, upstreams: dict[str, Any]) -> dict[str, Any]:
        import re

        for name, up in upstreams.items():
            if not re.match(UPSTREAM_NAME_PATTERN, name):
                raise ValueError(
                    f"upstream name {name!r} must be lowercase letters, digits and '-', starting "
                    f"with a letter, at most 48 characters (pattern {UPSTREAM_NAME_PATTERN})"
                )
            if isinstance(up, HttpUpstream):
                # An address literal is judged now; a name is judged on each resolution.
                try:
                    EgressPolicy.build(name, up.egress, up.allow_private).check_url(up.url)
                except EgressDenied as exc:
                    raise ValueError(str(exc)) from None
        return upstreams

    def resolve_paths(self, base: Path) -> GatewayConfig:
        """Make relative file paths relative to the config file, not the working directory."""
        if self.audit.path and not Path(self.audit.path).is_absolute():
            self.audit.path = str(base / self.audit.path)
        if self.store.backend == "sqlite" and not Path(self.store.path).is_absolute():
            self.store.path = str(base / self.store.path)
        if self.policy and not Path(self.policy).is_absolute():
            self.policy = str(base / self.policy)
        for up in self.upstreams.values():
            if isinstance(up, StdioUpstream) and up.cwd and not Path(up.cwd).is_absolute():
                up.cwd = str(base / up.cwd)
        return self


class ConfigError(Exception):
    """The config file is missing, not YAML, or does not match the schema."""


def load_config(path: str | Path) -> GatewayConfig:
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config {p}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{p}, line {mark.line + 1} column {mark.column + 1}" if mark is not None else str(p)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: not valid YAML: {problem}") from exc
    if raw is None:
        raise ConfigError(f"{p}: the file is empty; it needs at least an `upstreams:` section")
    if isinstance(raw, dict):
        raw = {k: _expand_env(v) if k in ENV_EXPANDED_SECTIONS else v for k, v in raw.items()}
    return parse_config(raw or {}, source=str(p)).resolve_paths(p.resolve().parent)


# Sections whose string values may be `${NAME}` or `${NAME:-default}`: deployment-specific
# URLs (issuer, public URL, store and Redis URLs, replica id, audit file) that differ
# between environments sharing one file. Only whole values are expanded, and only here:
# secrets use `env:`/`file:` references instead, resolved when used, and commands and
# arguments are never rewritten from the environment.
ENV_EXPANDED_SECTIONS = frozenset({"auth", "authorization_server", "public_url", "store", "replica", "audit"})


def _expand_env(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _expand_env(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v) for v in value]
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        name, sep, default = value[2:-1].partition(":-")
        found = os.environ.get(name)
        if found:
            return found
        if sep:
            return default or None  # `${NAME:-}`: unset means "use the built-in default"
        raise ConfigError(f"environment variable {name!r} is not set (needed by {value!r})")
    return value


def parse_config(raw: Any, *, source: str = "<config>") -> GatewayConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys (upstreams:, listen:, ...)")
    try:
        return GatewayConfig.model_validate(raw)
    except ValidationError as exc:
        from mcpwarden.config_errors import describe

        raise ConfigError("\n".join(describe(exc, raw, source, GatewayConfig))) from None


def config_json_schema() -> dict[str, Any]:
    return GatewayConfig.model_json_schema()
