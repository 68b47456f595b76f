"""Builds the right connector for an upstream's config."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcpwarden.config import HttpUpstream, StdioUpstream
from mcpwarden.gateway.upstream.base import ClosedHandler, EventHandler, MessageHandler, UpstreamConnection
from mcpwarden.gateway.upstream.stdio import StdioConnection

if TYPE_CHECKING:
    from mcpwarden.gateway.upstream.http import CredentialHook
    from mcpwarden.gateway.upstream.pools import UpstreamPools


def connect_upstream(
    name: str,
    config: HttpUpstream | StdioUpstream,
    *,
    http_client: UpstreamPools,
    on_message: MessageHandler,
    on_closed: ClosedHandler,
    on_event: EventHandler | None = None,
    credentials: CredentialHook | None = None,
) -> UpstreamConnection:
    """`credentials` applies to HTTP upstreams only: a stdio child gets its secrets through its
    allow-listed environment and never sees any token (MCP AUTHZ-01). `http_client` holds each
    HTTP upstream's own pools (see `pools.py`)."""
    if isinstance(config, HttpUpstream):
        # The HTTP connector (and aiohttp under it) is loaded with the first HTTP upstream.
        from mcpwarden.gateway.upstream.http import HttpConnection

        pool = http_client.for_upstream(name)
        return HttpConnection(name, config, pool, on_message, on_closed, credentials, on_event)
    return StdioConnection(name, config, on_message, on_closed, on_event)
