"""Limit a guard to some upstreams without the guard knowing about it.

The pipeline sees only the hooks the inner guard overrides, so wrapping costs nothing for
hooks the inner guard does not implement.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

from mcpwarden.guards.base import Guard
from mcpwarden.types import Decision, Exchange

HookFn = Callable[[Exchange, Any], Awaitable[Decision | None]]


class UpstreamScoped(Guard):
    """Runs `inner` only for exchanges whose upstream is in `upstreams`."""

    def __init__(self, inner: Guard, upstreams: Collection[str]) -> None:
        self.inner = inner
        self.upstreams = frozenset(upstreams)
        self.name = inner.name  # type: ignore[misc]  # audit records name the real guard

    def overrides(self, hook: str) -> bool:
        return getattr(type(self.inner), hook) is not getattr(Guard, hook)

    def bound(self, hook: str) -> HookFn:
        fn: HookFn = getattr(self.inner, hook)
        upstreams = self.upstreams

        async def scoped(ex: Exchange, payload: Any) -> Decision | None:
            if ex.upstream not in upstreams:
                return None
            return await fn(ex, payload)

        return scoped
