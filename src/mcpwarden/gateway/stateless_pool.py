"""Gateway-side sessions for stateless (2026-07-28) clients, one per principal and endpoint.

A stateless client has no session, but the upstreams behind the gateway (2025-11-25) do.
The gateway therefore holds one ordinary `Session` per (principal, endpoint), opened with a
handshake it performs itself, and runs every stateless request of that principal on it:
the same request processor, guard pipeline, audit and quotas as a session-era client.
Nothing is shared between principals, so whatever state an upstream keeps in its own
session (and any handle it mints inside it) stays with the principal that caused it.

The pooled session's server-initiated traffic that belongs to no request (list changes,
resource updates) is fanned out to the principal's open `subscriptions/listen` streams;
server requests there have no client to go to and are refused towards the upstream, audited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcpwarden import __version__
from mcpwarden.config import LATEST_PROTOCOL_VERSION
from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.channel import Channel
from mcpwarden.gateway.http_errors import HttpRejection
from mcpwarden.gateway.quotas import QuotaExceeded
from mcpwarden.gateway.session import Session
from mcpwarden.store.base import StoreUnavailable
from mcpwarden.types import Principal

if TYPE_CHECKING:
    from mcpwarden.gateway.core import GatewayCore

log = logging.getLogger("mcpwarden.session")

JSON = dict[str, Any]
STATELESS_MARK = "_stateless"
# What the gateway declares towards upstreams for its stateless clients: everything a
# client may have, so that an upstream asks and the gateway decides per request (a client
# that lacks the capability gets MissingRequiredClientCapabilityError).
UPSTREAM_CLIENT_CAPABILITIES: JSON = {"sampling": {}, "elicitation": {}, "roots": {"listChanged": True}}


@dataclass(eq=False)
class Listener:
    """One open `subscriptions/listen` stream: what it asked for and where its messages go."""

    subscription_id: Any
    accepts: Callable[[JSON], bool]
    queue: asyncio.Queue[JSON | None] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))


@dataclass(eq=False)
class Pooled:
    """A principal's gateway-side session on one endpoint and what rides on it."""

    session: Session
    init_result: JSON
    listeners: set[Listener] = field(default_factory=set)
    # Lower-case Mcp-Param header -> (argument, type), per tool name as this endpoint shows it.
    tool_headers: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    pump: asyncio.Task[None] | None = None


async def final_of(channel: Channel) -> JSON:
    """The final message on a channel, skipping what came before it."""
    while True:
        msg, data = await channel.queue.get()
        if data is not None:
            return msg


class StatelessPool:
    def __init__(self, core: GatewayCore) -> None:
        self.core = core
        self._pooled: dict[tuple[str, str], Pooled] = {}
        self._starting: dict[tuple[str, str], asyncio.Future[Pooled]] = {}

    def __len__(self) -> int:
        return sum(1 for p in self._pooled.values() if not p.session.closed)

    async def get(
        self, principal: Principal, name: str | None, endpoint: str, subject_token: str | None
    ) -> Pooled:
        """The principal's live pooled session on `endpoint`, opened on first use."""
        key = (principal.key, endpoint)
        pooled = self._pooled.get(key)
        if pooled is not None and not pooled.session.closed and pooled.session.upstream_gone.is_set():
            # Every upstream session behind it ended (expired, restarted): start afresh.
            await self.core.end_session(pooled.session, "upstream sessions gone")
        if pooled is not None and not pooled.session.closed:
            pooled.session.touch()
            pooled.session.reauthenticated(principal, subject_token)
            return pooled
        starting = self._starting.get(key)
        if starting is not None:
            return await asyncio.shield(starting)
        future: asyncio.Future[Pooled] = asyncio.get_running_loop().create_future()
        self._starting[key] = future
        try:
            pooled = await self._open(principal, name, endpoint, subject_token)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here: waiters re-raise it themselves
            raise
        finally:
            self._starting.pop(key, None)
        self._pooled[key] = pooled
        future.set_result(pooled)
        return pooled

    async def _open(
        self, principal: Principal, name: str | None, endpoint: str, subject_token: str | None
    ) -> Pooled:
        core = self.core
        if core.draining:
            raise HttpRejection(503, "gateway.draining", "this replica is shutting down")
        try:
            core.quotas.admit_session(principal.key)
        except QuotaExceeded as exc:
            raise HttpRejection(exc.status, exc.reason, str(exc)) from None
        upstreams = [name] if name else list(core.config.upstreams)
        session = core.create_session(principal, upstreams, aggregate=name is None)
        session.state["_endpoint"] = endpoint
        session.state[STATELESS_MARK] = True
        session.subject_token = subject_token
        try:
            core.register_session(session, endpoint)
        except StoreUnavailable as exc:
            await core.end_session(session, "store unavailable")
            raise HttpRejection(503, "store.unavailable", f"cannot record the session: {exc}") from exc
        init = {
            "jsonrpc": "2.0",
            "id": "gateway-initialize",
            "method": "initialize",
            "params": {
                "protocolVersion": LATEST_PROTOCOL_VERSION,
                "capabilities": UPSTREAM_CLIENT_CAPABILITIES,
                "clientInfo": {"name": "mcpwarden", "version": __version__},
            },
        }
        reply = await final_of(session.handle_request(init))
        result = reply.get("result")
        if not isinstance(result, dict):
            await core.end_session(session, "initialize failed")
            error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            assert isinstance(error, dict)
            raise HttpRejection(
                502,
                str((error.get("data") or {}).get("reason") or "upstream.initialize_failed"),
                f"the gateway could not open its upstream session: {error.get('message')}",
            )
        await session.handle_notification({"jsonrpc": "2.0", "method": "notifications/initialized"})
        pooled = Pooled(session, result)
        # Messages that belong to no request go to the unsolicited queue, read here.
        session.stream_opened()
        pooled.pump = asyncio.create_task(self._pump(pooled), name=f"stateless-pump-{session.id}")
        return pooled

    async def _pump(self, pooled: Pooled) -> None:
        session = pooled.session
        while True:
            msg = await session.unsolicited.get()
            if msg is None:
                break
            channel = self._sole_call(session, msg)
            if channel is not None:
                channel.push(msg)
                continue
            if "id" in msg and "method" in msg:
                await self._refuse_server_request(session, msg)
                continue
            delivered = False
            for listener in list(pooled.listeners):
                if listener.accepts(msg):
                    with contextlib.suppress(asyncio.QueueFull):
                        listener.queue.put_nowait(msg)
                        delivered = True
            if not delivered:
                log.debug("session %s: %s had no listen stream to go to", session.id, msg.get("method"))
                self.core.audit_event(
                    "notification.undelivered",
                    session=session.id,
                    principal=session.principal.key,
                    method=msg.get("method") if isinstance(msg.get("method"), str) else None,
                    reason="stateless.no_listener",
                )
        for listener in list(pooled.listeners):
            with contextlib.suppress(asyncio.QueueFull):
                listener.queue.put_nowait(None)

    @staticmethod
    def _sole_call(session: Session, msg: JSON) -> Channel | None:
        """The one call a message that names none must belong to, if that is certain.

        A stdio upstream cannot say which request a log message or a server request is
        for. When the principal has exactly one call open on that upstream it can only be
        that call (and it is the same principal either way); otherwise nothing is guessed.
        A call held for the client's input waits on that answer, so it is not counted.
        """
        if "id" in msg:
            upstream = session.relay.server_request_upstream(msg["id"])
        elif msg.get("method") == "notifications/message":
            upstream = _logger_upstream(session, msg)
        else:
            return None
        open_calls = [
            ch
            for ch in session.calls.channels.values()
            if not ch.done and not ch.awaiting_input and ch.upstream == upstream
        ]
        return open_calls[0] if upstream is not None and len(open_calls) == 1 else None

    async def _refuse_server_request(self, session: Session, msg: JSON) -> None:
        """A server request on the upstream's own stream: a stateless client cannot take it."""
        message = "the client speaks 2026-07-28 and takes no server-initiated requests outside a call"
        log.debug("session %s: refused %s from its upstream: %s", session.id, msg.get("method"), message)
        self.core.audit_event(
            "alert",
            session=session.id,
            principal=session.principal.key,
            method=str(msg.get("method")),
            reason="stateless.server_request_refused",
            message=message,
        )
        await session.handle_response(
            jsonrpc.error(
                msg["id"], jsonrpc.METHOD_NOT_FOUND, message, reason="stateless.server_request_refused"
            )
        )

    async def close(self) -> None:
        for pooled in list(self._pooled.values()):
            if pooled.pump is not None:
                pooled.pump.cancel()
        self._pooled.clear()


def _logger_upstream(session: Session, msg: JSON) -> str | None:
    """The upstream a log message came from: the pooled session's only upstream, if one."""
    return session.upstream_names[0] if len(session.upstream_names) == 1 else None
