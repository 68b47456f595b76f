"""A session's bounded client buffers and what it does when a client reads too slowly.

`outbox.py` holds the policy (drop progress first, then close the slow consumer); this
module binds it to a session: every request stream and the session's GET streams share one
session budget, each overflow is audited as `stream.backpressure` (once when progress
starts being dropped, once when a stream is closed, with queue lengths and counts), and a
request whose stream is closed is cancelled upstream and answered with a JSON-RPC error in
case the client ever reads it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Protocol

from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.outbox import ChannelQueue, Outbox, SessionBudget, SessionQueue
from mcpwarden.gateway.services import GatewayServices

SLOW_CONSUMER = "stream.slow_consumer"


class _Session(Protocol):
    """What the binding needs from a session (kept narrow so either session layout fits)."""

    id: str
    core: GatewayServices

    def stop_request(self, params: dict[str, Any]) -> Coroutine[Any, Any, None] | None: ...


class SlowClients:
    """One per session: makes its stream queues and handles their overflows."""

    def __init__(self, session: _Session, budget: SessionBudget | None = None) -> None:
        self._session = session
        self.budget = budget or SessionBudget()
        self._tasks: set[asyncio.Task[None]] = set()

    def request_queue(self, client_id: Any) -> ChannelQueue:
        def overflow(what: str, details: dict[str, Any]) -> dict[str, Any] | None:
            self._audit(what, "request", details, request_id=client_id)
            if what != "closed":
                return None
            # Stopped here, not in a task scheduled for later: the upstream's response may
            # already be on its way, and must not complete a request whose stream is gone.
            rest = self._session.stop_request(
                {"requestId": client_id, "reason": "client too slow to read its stream"}
            )
            if rest is not None:
                task = asyncio.get_running_loop().create_task(rest)
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            return jsonrpc.error(
                client_id,
                jsonrpc.UPSTREAM_UNAVAILABLE,
                "the client did not read this stream fast enough; the request was cancelled",
                reason=SLOW_CONSUMER,
            )

        return ChannelQueue(Outbox(self.budget, on_overflow=overflow))

    def session_queue(self, *, resume: bool = False) -> SessionQueue:
        def make() -> Outbox:
            def overflow(what: str, details: dict[str, Any]) -> dict[str, Any] | None:
                self._audit(what, "session", details)
                return None

            return Outbox(self.budget, on_overflow=overflow)

        return SessionQueue(make, resume=resume)

    def _audit(self, what: str, stream: str, details: dict[str, Any], **extra: Any) -> None:
        action = "stream_closed" if what == "closed" else "progress_dropped"
        self._session.core.audit_event(
            "stream.backpressure",
            session=self._session.id,
            reason=SLOW_CONSUMER if what == "closed" else "stream.progress_dropped",
            message=f"client is not reading its {stream} stream: {action.replace('_', ' ')}",
            details={"stream": stream, "action": action, **details, **extra},
        )
