"""Connectors to upstream MCP servers: one connection per client session and upstream."""

from mcpwarden.gateway.upstream.base import UpstreamClosed, UpstreamConnection, UpstreamError
from mcpwarden.gateway.upstream.factory import connect_upstream

__all__ = ["UpstreamClosed", "UpstreamConnection", "UpstreamError", "connect_upstream"]
