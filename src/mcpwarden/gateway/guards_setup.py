"""Builds the guard pipeline from the config.

This is the one place a new guard is plugged in: the transport never changes for it.
Order matters: access control first (cheap, and nothing denied is ever scanned), then
integrity of definitions (poisoning, then pinning), then the size cap (so detectors never
scan an oversized result), then content defense. Guards that have per-upstream off
switches are wrapped in `UpstreamScoped`, so `off` really means the guard never runs.
"""

from __future__ import annotations

from mcpwarden.config import GatewayConfig, StdioUpstream
from mcpwarden.guards.base import Guard
from mcpwarden.guards.content import ContentGuard, ContentPolicy
from mcpwarden.guards.result_size import ResultSizeGuard
from mcpwarden.guards.scoped import UpstreamScoped
from mcpwarden.guards.tool_filter import ToolFilterGuard


def build_guards(config: GatewayConfig) -> list[Guard]:
    ups = config.upstreams
    guards: list[Guard] = []

    tool_filter = ToolFilterGuard({name: up.tools for name, up in ups.items()})
    if tool_filter.filters:
        guards.append(tool_filter)

    if config.policy:
        from mcpwarden.guards.policy import PolicyGuard
        from mcpwarden.policy.engine import PolicyEngine

        guards.append(PolicyGuard(PolicyEngine.from_file(config.policy)))

    handles = {name: frozenset(up.state_handles) for name, up in ups.items() if up.state_handles}
    if handles:
        from mcpwarden.guards.state_handles import StateHandleGuard

        per_session = frozenset(
            name for name, up in ups.items() if isinstance(up, StdioUpstream) and not up.shared
        )
        guards.append(StateHandleGuard(handles, per_session=per_session))

    # Poisoning runs before pinning so that a held-back definition is still scanned: once
    # approved, a call made without a fresh listing must not skip the detector.
    scanned = {name: up.on_poisoning for name, up in ups.items() if up.on_poisoning != "off"}
    if scanned:
        from mcpwarden.guards.poisoning import PoisoningGuard

        quotas = {name: up.max_tools for name, up in ups.items() if up.max_tools is not None}
        guards.append(UpstreamScoped(PoisoningGuard(scanned, quotas=quotas), scanned))

    pinned = {name: up.pinning for name, up in ups.items() if up.pinning != "off"}
    if pinned:
        from mcpwarden.guards.pinning import PinningGuard
        from mcpwarden.store.factory import open_backends

        store = open_backends(config.store, config.replica.resolved_id()).store
        guards.append(UpstreamScoped(PinningGuard(store, pinned), pinned))

    size = ResultSizeGuard({name: up.max_result_bytes for name, up in ups.items()})
    if size.caps:
        guards.append(size)

    content: dict[str, ContentPolicy] = {}
    for name, up in ups.items():
        if up.content == "off":
            continue
        content[name] = up.content if isinstance(up.content, ContentPolicy) else ContentPolicy()
    if content:
        guards.append(UpstreamScoped(ContentGuard(content), content))
    return guards
