"""One client session: who it belongs to, and the parts that carry its messages.

A session composes four parts, each with one job:
- `Fanout` (fanout.py): its own upstream sessions, requests and replies;
- `Definitions` (definitions.py): listing definitions through the guards, re-checks;
- `RequestProcessor` (exchange.py): one client request to one response and audit record;
- `Relay` (relay.py): upstream-initiated requests and notifications to the client.
This class only takes client messages in, tracks the requests in flight, and closes it
all down. The transport fronts (`front`, `wrap`) talk to it and nothing deeper.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.channel import Channel, InFlight
from mcpwarden.gateway.definitions import Definitions
from mcpwarden.gateway.exchange import RequestProcessor
from mcpwarden.gateway.fanout import Fanout
from mcpwarden.gateway.relay import Relay
from mcpwarden.gateway.services import GatewayServices
from mcpwarden.gateway.slow_clients import SlowClients
from mcpwarden.gateway.streams import StreamRegistry
from mcpwarden.gateway.upstream import UpstreamError
from mcpwarden.types import Denied, Exchange, Principal

JSON = dict[str, Any]


class Session:
    def __init__(
        self,
        core: GatewayServices,
        session_id: str,
        principal: Principal,
        upstreams: list[str],
        *,
        aggregate: bool,
        transport: str = "http",
    ) -> None:
        self.core = core
        self.id = session_id
        self.principal = principal
        # The caller's latest validated bearer token, kept in memory only, as the RFC 8693
        # subject for upstreams using token exchange. It is never sent upstream itself.
        self.subject_token: str | None = None
        self.upstream_names = upstreams
        self.aggregate = aggregate
        self.transport = transport
        self.created = time.monotonic()
        self.last_seen = self.created
        self.protocol_version: str | None = None
        self.state: dict[str, Any] = {}
        self.closed = False
        self.calls = InFlight()
        limits = core.config.sessions
        # The SSE streams towards the client, kept for resumption with Last-Event-ID.
        self.streams = StreamRegistry(
            max_events=limits.stream_replay_events,
            max_bytes=limits.stream_replay_bytes,
            window_s=limits.stream_replay_s,
        )
        self.fanout = Fanout(self, self._from_upstream)
        self.definitions = Definitions(self, self.fanout)
        self.slow_clients = SlowClients(self)
        # Bounded towards slow clients; the wrapper's stdout cannot reconnect, so it resumes.
        unsolicited = self.slow_clients.session_queue(resume=transport == "stdio")
        self.relay = Relay(self, self.fanout, self.definitions, self.calls, unsolicited)
        self.processor = RequestProcessor(self, self.fanout, self.definitions, self.calls)
        # What the fronts read: server-initiated messages for GET streams (or stdout),
        # and an event set once every upstream is gone.
        self.unsolicited = self.relay.unsolicited
        self.upstream_gone = self.fanout.upstream_gone

    # ------------------------------------------------------------------ lifecycle

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    def reauthenticated(self, principal: Principal, subject_token: str | None) -> None:
        """Take the claims and token of the request just authenticated for this session.

        The caller is the same principal (the lookup checked the key), but a renewed token
        may carry fewer roles or scopes: policy must see those, not the first token's.
        """
        self.principal = principal
        if subject_token is not None:
            self.subject_token = subject_token

    async def close(self, reason: str = "closed") -> None:
        if self.closed:
            return
        self.closed = True
        self.calls.cancel_all()
        self.relay.end_streams()
        await self.fanout.close()
        self.core.audit_event("session.end", session=self.id, principal=self.principal.key, reason=reason)

    def stream_opened(self) -> None:
        """A GET stream opened: it receives the backlog and every later unsolicited message."""
        self.relay.stream_opened()

    def stream_closed(self) -> None:
        self.relay.stream_closed()

    @property
    def get_streams(self) -> int:
        """GET streams open on this session now (capped per session and per principal)."""
        return self.relay.get_streams

    async def recheck(self, upstream: str, methods: tuple[str, ...] | None = None) -> None:
        """List an upstream's definitions through the guards (pinning, poisoning) now."""
        await self.definitions.recheck(upstream, methods)

    async def _from_upstream(self, upstream: str, msg: JSON, related: Any) -> None:
        await self.relay.from_upstream(upstream, msg, related)

    # ------------------------------------------------------------------ client → gateway

    def handle_request(self, msg: JSON, request_bytes: int = 0) -> Channel:
        """Start processing a client request; the returned channel yields its messages."""
        self.touch()
        params = msg.get("params")
        meta = params.get("_meta") if isinstance(params, dict) else None
        channel = Channel(
            msg["id"],
            progress_token=meta.get("progressToken") if isinstance(meta, dict) else None,
            queue=self.slow_clients.request_queue(msg["id"]),
        )
        if msg["id"] in self.calls:
            channel.finish(
                jsonrpc.error(msg["id"], jsonrpc.INVALID_REQUEST, "request id already in use in this session")
            )
            return channel
        limit = self.core.config.sessions.max_in_flight
        if len(self.calls) >= limit:
            self._refuse(msg, channel, "session.too_many_in_flight", f"more than {limit} requests in flight")
            return channel
        key = self.principal.key
        if not self.core.in_flight.try_acquire(key):
            self._refuse(
                msg,
                channel,
                "principal.too_many_in_flight",
                f"more than {self.core.in_flight.limit} requests in flight for this principal",
            )
            return channel
        task = asyncio.create_task(self.processor.process(msg, channel, request_bytes))
        # The slot is given back however the task ends (answered, cancelled before it ran).
        task.add_done_callback(lambda _task: self.core.in_flight.release(key))
        self.calls.add(channel, task)
        return channel

    def _refuse(self, msg: JSON, channel: Channel, reason: str, message: str) -> None:
        """Answer a request the session will not start (over a quota), and audit it."""
        size = channel.finish(jsonrpc.error(msg["id"], jsonrpc.TOO_MANY_REQUESTS, message, reason=reason))
        self.core.audit_request(
            session=self.id,
            principal=self.principal.key,
            method=msg["method"],
            decision="deny",
            reason=reason,
            latency_ms=0.0,
            response_bytes=size,
        )

    async def handle_notification(self, msg: JSON) -> None:
        self.touch()
        method = msg["method"]
        params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
        assert isinstance(params, dict)
        if method == "notifications/cancelled":
            await self._client_cancelled(params)
            return
        ex = Exchange(method, "*", self.principal, self.id, params=params, state=self.state)
        try:
            msg = await self.core.pipeline.run("notification", ex, msg)
        except Denied:
            return
        for name, conn in list(self.fanout.conns.items()):
            try:
                await conn.send(msg)
            except UpstreamError as exc:
                self.core.audit_event(
                    "error",
                    session=self.id,
                    upstream=name,
                    method=method,
                    reason=exc.reason,
                    message=str(exc),
                )
            if method == "notifications/initialized":
                conn.initialized()

    async def handle_response(self, msg: JSON) -> None:
        """A client's answer to a server-initiated request: route it to its upstream."""
        self.touch()
        await self.relay.client_response(msg)

    def stop_request(self, params: JSON) -> Coroutine[Any, Any, None] | None:
        """Stop a request now and return what is left to do (tell its upstreams, end its stream).

        Synchronous up to the task's cancellation, so that an upstream response arriving while
        the cancellation notice is being sent can no longer complete the request as allowed.
        """
        request_id = params.get("requestId")
        channel = self.calls.get(request_id)
        if channel is None:
            return None
        targets = self.fanout.working_for(channel)
        task = self.calls.task(request_id)
        if task is not None:
            task.cancel()

        async def rest() -> None:
            await self.fanout.notify_cancelled(targets, params)
            channel.finish(None)

        return rest()

    async def _client_cancelled(self, params: JSON) -> None:
        rest = self.stop_request(params)
        if rest is not None:
            await rest
