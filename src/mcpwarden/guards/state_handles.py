"""State handles bound to the principal that received them (the spec's "state handle hijacking").

Under 2026-07-28 an upstream keeps cross-call state behind handles it mints and the client
passes back as ordinary tool arguments. Possession of a handle must not be authentication:
a handle issued to one user and presented by another is someone else's state. The gateway
cannot recognise a handle by its looks, so the operator names the arguments that carry them
(`state_handles` per upstream). A handle is learnt from a tool result's `structuredContent`
(a top-level field of that name, or one level down) and bound to the principal whose call
returned it; a call presenting it under another principal is denied (`state_handle.foreign`,
audited by the pipeline). An upstream handing the same handle to two principals is flagged
(`state_handle.reissued`). Handles the gateway never saw pass: the upstream must verify them
anyway, and bindings live in this process's memory (bounded, oldest forgotten first).
A stdio upstream that is not `shared` runs one process per session, so its handles only mean
something inside that session: they are bound per session there (`per_session`).
Both eras go through this guard, since handles are plain arguments in either.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from mcpwarden.guards.base import Guard
from mcpwarden.types import JSON, Decision, Exchange

MAX_BINDINGS = 100_000


class StateHandleGuard(Guard):
    name: ClassVar[str] = "state_handles"

    def __init__(
        self,
        names: Mapping[str, frozenset[str]],
        *,
        per_session: frozenset[str] = frozenset(),
        capacity: int = MAX_BINDINGS,
    ) -> None:
        self.names = dict(names)
        self.per_session = per_session
        self.capacity = capacity
        # (upstream, session or "", handle) -> principal key, oldest first.
        self._owners: OrderedDict[tuple[str, str, str], str] = OrderedDict()

    def _key(self, ex: Exchange, handle: str) -> tuple[str, str, str]:
        scope = (ex.session_id or "") if ex.upstream in self.per_session else ""
        return (ex.upstream, scope, handle)

    async def tool_result(self, ex: Exchange, result: JSON) -> Decision | None:
        names = self.names.get(ex.upstream)
        if not names:
            return None
        reissued: list[str] = []
        for field, handle in _handles(result.get("structuredContent"), names):
            key = self._key(ex, handle)
            owner = self._owners.get(key)
            if owner is not None and owner != ex.principal.key:
                reissued.append(field)
                continue
            self._owners[key] = ex.principal.key
            self._owners.move_to_end(key)
            while len(self._owners) > self.capacity:
                self._owners.popitem(last=False)
        if reissued:
            return Decision.alert(
                "state_handle.reissued",
                f"{ex.upstream!r} returned a state handle ({', '.join(reissued)}) "
                "already issued to another principal",
                tool=ex.tool,
            )
        return None

    async def tool_call(self, ex: Exchange, params: JSON) -> Decision | None:
        names = self.names.get(ex.upstream)
        args = params.get("arguments")
        if not names or not isinstance(args, dict):
            return None
        for field in names:
            handle = args.get(field)
            if not isinstance(handle, str):
                continue
            owner = self._owners.get(self._key(ex, handle))
            if owner is not None and owner != ex.principal.key:
                return Decision.deny(
                    "state_handle.foreign",
                    f"argument {field!r} carries a state handle issued to another principal; "
                    "holding a handle is not authorization",
                    argument=field,
                )
        return None


def _handles(content: Any, names: frozenset[str]) -> Iterator[tuple[str, str]]:
    """(field, handle) for every string under a handle name, top level or one level down."""
    if not isinstance(content, dict):
        return
    for key, value in content.items():
        if key in names and isinstance(value, str) and value:
            yield key, value
        elif isinstance(value, dict):
            for inner, handle in value.items():
                if inner in names and isinstance(handle, str) and handle:
                    yield inner, handle
