"""Upstream server entries of the gateway configuration (HTTP and stdio).

Kept apart from `config.py` so that the top-level model stays readable; `config.py`
re-exports every name here, so callers import them from either module.
"""

from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mcpwarden.auth.config import NoCredentials, UpstreamCredentials
from mcpwarden.egress import EgressRule
from mcpwarden.guards.content_policy import ContentPolicy
from mcpwarden.types import FileUse

# Upstream names become URL path segments, tool-name prefixes and URI-scheme prefixes
# (see docs/configuration.md, "Aggregated naming"), so they are restricted to characters
# that are valid in all three and never contain the separators used there.
UPSTREAM_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,47}$"


class _Model(BaseModel):
    """Configuration models refuse unknown keys (a typo is an error, not a silent default)."""

    model_config = ConfigDict(extra="forbid")


class ToolFilter(_Model):
    """Per-upstream tool allow/deny list (glob patterns on the upstream's own tool names).

    An empty `allow` means every tool not denied; `deny` always wins.
    """

    allow: list[str] = Field(default_factory=list)
    deny: list[str] = Field(default_factory=list)


PinningMode = Literal["approve", "tofu", "locked", "off"]


class _UpstreamBase(_Model):
    timeout_s: float = Field(30.0, gt=0, description="Hard limit for one request to this upstream.")
    era: Literal["handshake", "stateless"] = Field(
        "handshake",
        description="The protocol era the upstream speaks: `handshake` (initialize, up to 2025-11-25) or "
        "`stateless` (2026-07-28 only; the gateway bridges its sessions to it, see docs/eras.md).",
    )
    connect_timeout_s: float = Field(10.0, gt=0, description="Limit for starting or reaching the upstream.")
    tools: ToolFilter = Field(default_factory=ToolFilter)
    max_result_bytes: int | None = Field(
        1_048_576, gt=0, description="Results larger than this are replaced by an error (null: no cap)."
    )
    pinning: PinningMode = Field(
        "tofu",
        description="Tool/prompt/template pinning: `approve` (new definitions wait for approval), `tofu` "
        "(the first definition seen is trusted, changes are quarantined), `locked` (only the pinned set), "
        "or `off`.",
    )
    on_poisoning: Literal["quarantine", "warn", "off"] = Field(
        "quarantine", description="What a tool definition flagged by the poisoning detector gets."
    )
    max_tools: int | None = Field(None, gt=0, description="Tool quota: more tools than this is a finding.")
    state_handles: list[str] = Field(
        default_factory=list,
        description="Names of tool arguments that carry state handles this upstream mints (2026-07-28, "
        "SEP-2567). A handle seen in a tool result's structuredContent under one of these names is bound "
        "to the principal that received it; another principal presenting it is refused and audited.",
    )
    content: ContentPolicy | Literal["off"] | None = Field(
        None,
        description="Content defense (injection, secrets, PII, spotlighting). Unset: the default policy "
        "(spotlight all text results, block above a high score). `off` disables it for this upstream.",
    )


class HttpUpstream(_UpstreamBase):
    transport: Literal["http"] = "http"
    url: str = Field(description="Streamable HTTP endpoint of the upstream MCP server.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra headers for the upstream (never the client's credentials)."
    )
    credentials: UpstreamCredentials = Field(
        default_factory=NoCredentials,
        description="What the gateway presents to this upstream: none, a static bearer token or API key "
        "(secret references), OAuth client credentials, or RFC 8693 token exchange. The client's own "
        "token is never forwarded.",
    )

    allow_private: bool = Field(
        False,
        description="Permit connections to private, loopback, link-local and other internal addresses "
        "(checked on every resolved address when connecting). Off by default: an upstream URL or DNS "
        "record must not aim the gateway at internal services. Set it for upstreams on 127.0.0.1 or an "
        "internal network.",
    )
    egress: list[str] = Field(
        default_factory=list,
        description="Allow-list of `host:port` destinations for this upstream (`host:*` for any port; host "
        "may be a name, an address or a network such as `10.1.0.0/16`). Empty: only the URL's own host. "
        "An address or network listed here is allowed even when it is internal.",
    )
    max_message_bytes: int = Field(
        8 * 1_048_576,
        gt=0,
        description="Largest single message (JSON body or SSE event) read from this upstream; counted "
        "while reading, so a bigger one is cut off without being buffered.",
    )
    max_connections: int = Field(
        256, gt=0, description="Connections for requests (POST/DELETE) to this upstream, its own pool."
    )
    max_streams: int = Field(
        1000,
        gt=0,
        description="Long-lived GET streams to this upstream, a separate pool so idle sessions never "
        "starve calls.",
    )
    pool_timeout_s: float = Field(
        10.0, gt=0, description="Longest wait for a free connection; the request then fails with an error."
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return v

    @field_validator("egress")
    @classmethod
    def _egress_entries(cls, v: list[str]) -> list[str]:
        for entry in v:
            EgressRule.parse(entry)
        return v


class StdioUpstream(_UpstreamBase):
    transport: Literal["stdio"] = "stdio"
    command: Annotated[str, FileUse("command", "a program on PATH or the path of an executable file")]
    args: list[str] = Field(default_factory=list)
    cwd: Annotated[str | None, FileUse("folder", "an existing folder")] = None
    env: dict[str, str] = Field(default_factory=dict, description="Variables set for the child.")
    env_passthrough: list[str] = Field(
        default_factory=list,
        description="Names of the gateway's own environment variables the child may see. Nothing else "
        "from the gateway's environment reaches it (PATH included, unless listed).",
    )
    max_line_bytes: int = Field(
        8 * 1_048_576, gt=0, description="Longest stdout line accepted from the child."
    )
    shared: bool = Field(
        False,
        description="One process for every session instead of one per session. Only for servers that "
        "keep no per-client state: every user's calls reach the same process (see docs/configuration.md).",
    )

    def child_environment(self, parent: dict[str, str] | None = None) -> dict[str, str]:
        source = os.environ if parent is None else parent
        env = {k: source[k] for k in self.env_passthrough if k in source}
        env.update(self.env)
        return env


Upstream = Annotated[HttpUpstream | StdioUpstream, Field(discriminator="transport")]
