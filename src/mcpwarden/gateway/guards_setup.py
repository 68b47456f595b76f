"""Builds the guard pipeline from the config.

This is the one place a new guard is plugged in: the transport never changes for it.
Order matters: access control first (cheap, and nothing denied is ever scanned), then
integrity, then content, then size.
"""

from __future__ import annotations

from mcpwarden.config import GatewayConfig
from mcpwarden.guards.base import Guard
from mcpwarden.guards.result_size import ResultSizeGuard
from mcpwarden.guards.tool_filter import ToolFilterGuard


def build_guards(config: GatewayConfig) -> list[Guard]:
    guards: list[Guard] = []
    filters = {name: up.tools for name, up in config.upstreams.items()}
    tool_filter = ToolFilterGuard(filters)
    if tool_filter.filters:
        guards.append(tool_filter)
    size = ResultSizeGuard({name: up.max_result_bytes for name, up in config.upstreams.items()})
    if size.caps:
        guards.append(size)
    return guards
