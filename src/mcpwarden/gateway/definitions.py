"""Listing upstream definitions through the guards, and holding their uses during a re-check.

Integrity guards (pinning, poisoning) judge calls against the definitions an upstream
lists. A `list_changed` notification makes the gateway re-list through the guards at once,
so a changed definition is quarantined before any client acts on it; calls that use a
definition of that upstream wait (bounded) for the re-list, and are refused if it does not
finish in time (fail closed).
"""

from __future__ import annotations

import asyncio
from typing import Any

from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.aggregate import LIST_METHODS, prefix_items
from mcpwarden.gateway.errors import ClientError, UpstreamTimeout
from mcpwarden.gateway.fanout import Fanout
from mcpwarden.gateway.pipeline import RESULT_HOOKS
from mcpwarden.gateway.services import SessionView
from mcpwarden.gateway.upstream import UpstreamError
from mcpwarden.types import Denied, Exchange

JSON = dict[str, Any]

# A list_changed notification and the list methods that re-check what it announced.
LIST_CHANGED: dict[str, tuple[str, ...]] = {
    "notifications/tools/list_changed": ("tools/list",),
    "notifications/prompts/list_changed": ("prompts/list",),
    "notifications/resources/list_changed": ("resources/list", "resources/templates/list"),
}
# What every session lists through the guards at initialize (resources too: their
# descriptions are scanned and pinned like the other definitions).
INITIAL_LISTS = ("tools/list", "prompts/list", "resources/list", "resources/templates/list")

# Requests that use a listed definition, and so must wait for a pending re-check.
DEFINITION_USES = frozenset({"tools/call", "prompts/get", "resources/read", "completion/complete"})
RECHECK_WAIT_S = 10.0
MAX_LIST_PAGES = 100  # bound the pages an upstream can make us fetch


class Definitions:
    """The listed definitions of one session's upstreams, as the guards let them through."""

    def __init__(self, session: SessionView, fanout: Fanout) -> None:
        self.session = session
        self.core = session.core
        self.fanout = fanout
        self._background: set[asyncio.Task[None]] = set()
        # The re-list an upstream's list_changed started; calls to it wait for it to finish.
        self._rechecks: dict[str, asyncio.Task[None]] = {}

    async def list_one(self, upstream: str, method: str, key: str) -> list[JSON]:
        """Every page of one upstream's list, through the list's result guards."""
        items: list[JSON] = []
        cursor: str | None = None
        for _ in range(MAX_LIST_PAGES):
            params: JSON = {"cursor": cursor} if cursor else {}
            reply = await self.fanout.request(upstream, method, params, None)
            result = reply.get("result")
            if not isinstance(result, dict):
                raise UpstreamError(
                    f"{method} failed on {upstream!r}: {reply.get('error')}", reason="upstream.error"
                )
            page = result.get(key)
            if isinstance(page, list):
                items.extend(x for x in page if isinstance(x, dict))
            cursor = result.get("nextCursor")
            if not cursor:
                break
        hook = RESULT_HOOKS[method]
        if self.core.pipeline.has(hook):
            s = self.session
            ex = Exchange(method, upstream, s.principal, s.id, None, None, {}, s.state)
            filtered = await self.core.pipeline.run(hook, ex, {key: items})
            items = filtered.get(key, [])
        return items

    async def aggregate_list(self, method: str, client_id: Any) -> JSON:
        """A list method on the aggregated endpoint: every upstream's items, renamed, merged."""
        key, _, capability = LIST_METHODS[method]
        names = self.fanout.with_capability(capability)
        results = await asyncio.gather(
            *(self.list_one(n, method, key) for n in names), return_exceptions=True
        )
        merged: list[JSON] = []
        for name, res in zip(names, results, strict=True):
            if isinstance(res, Denied):
                continue
            if isinstance(res, BaseException):
                self.core.audit_event(
                    "error",
                    session=self.session.id,
                    upstream=name,
                    method=method,
                    reason=getattr(res, "reason", "upstream.error"),
                    message=str(res),
                )
                continue
            merged.extend(prefix_items(name, method, res))
        return jsonrpc.result(client_id, {key: merged})

    async def recheck(self, upstream: str, methods: tuple[str, ...] | None = None) -> None:
        """List an upstream's definitions through the guards (pinning, poisoning) now."""
        wanted = methods or INITIAL_LISTS
        for method in wanted:
            key, _, capability = LIST_METHODS[method]
            if not self.fanout.has_capability(upstream, capability) or not self.core.pipeline.has(
                RESULT_HOOKS[method]
            ):
                continue
            try:
                await self.list_one(upstream, method, key)
            except (UpstreamError, UpstreamTimeout, Denied) as exc:
                self.core.audit_event(
                    "error",
                    session=self.session.id,
                    upstream=upstream,
                    method=method,
                    reason=getattr(exc, "reason", "upstream.error"),
                    message=f"re-check failed: {exc}",
                )

    def list_changed(self, upstream: str, notification: str) -> None:
        """Start re-checking what a list_changed notification announced (if it is one)."""
        methods = LIST_CHANGED.get(notification)
        if methods is None:
            return
        task = asyncio.create_task(self.recheck(upstream, methods))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        self._rechecks[upstream] = task

    async def await_recheck(self, upstream: str, method: str) -> None:
        """Hold a use of a definition while the upstream's announced change is re-checked.

        Every guard then judges the call against the new definitions, whichever order they
        run in; if the re-list does not finish in time the call is refused (fail closed).
        """
        task = self._rechecks.get(upstream)
        if task is None or task.done() or method not in DEFINITION_USES:
            return
        try:
            async with asyncio.timeout(RECHECK_WAIT_S):
                await asyncio.shield(task)
        except TimeoutError:
            raise ClientError(
                f"{upstream!r} announced changed definitions that are still being checked; retry shortly",
                code=jsonrpc.DENIED,
                reason="integrity.recheck_pending",
            ) from None
