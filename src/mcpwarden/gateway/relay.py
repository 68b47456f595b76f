"""Server-to-client traffic of one session: server requests, notifications and their routing.

Anything an upstream sends that is not a reply goes through the guards and then to the
client: on the stream of the client request it relates to when that is known, otherwise
on the session's `unsolicited` queue read by GET streams (or the wrapper's stdout).
Server-initiated requests get gateway-minted ids so that two upstreams on the aggregated
endpoint cannot clash on the client side; the client's answer is mapped back here.
"""

from __future__ import annotations

import contextlib
import itertools
from collections import deque
from typing import Any

from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.channel import Channel, InFlight
from mcpwarden.gateway.definitions import Definitions
from mcpwarden.gateway.fanout import Fanout
from mcpwarden.gateway.naming import prefix_uri
from mcpwarden.gateway.outbox import Outbox, SessionQueue
from mcpwarden.gateway.services import SessionView
from mcpwarden.gateway.upstream import UpstreamError
from mcpwarden.types import Denied, Exchange

JSON = dict[str, Any]
UNSOLICITED_BUFFER = 1000


class Relay:
    """Routes one session's upstream-initiated messages to the client, and answers back."""

    def __init__(
        self,
        session: SessionView,
        fanout: Fanout,
        definitions: Definitions,
        calls: InFlight,
        unsolicited: SessionQueue | None = None,
    ) -> None:
        self.session = session
        self.core = session.core
        self.fanout = fanout
        self.definitions = definitions
        self.calls = calls
        # Bounded towards slow clients (gateway/outbox.py, gateway/slow_clients.py).
        self.unsolicited = unsolicited or SessionQueue(Outbox)
        self._backlog: deque[JSON] = deque(maxlen=UNSOLICITED_BUFFER)
        self.get_streams = 0
        self._ids = itertools.count(1)
        self._server_requests: dict[str, tuple[str, Any]] = {}

    # ------------------------------------------------------------------ upstream → client

    async def from_upstream(self, upstream: str, msg: JSON, related: Any) -> None:
        """A request or notification an upstream sent (replies never come here)."""
        channel = self._related_channel(upstream, msg, related)
        if "id" in msg:
            await self._server_request(upstream, msg, channel)
        else:
            await self._server_notification(upstream, msg, channel)

    def _related_channel(self, upstream: str, msg: JSON, related: Any) -> Channel | None:
        if related is not None:
            return self.fanout.channel_of(upstream, related)
        params = msg.get("params")
        if msg.get("method") == "notifications/progress" and isinstance(params, dict):
            channel = self.calls.by_progress_token(params.get("progressToken"))
            if channel is not None:
                return channel
        # stdio carries no relation; with exactly one request in flight it is unambiguous.
        return self.fanout.sole_channel(upstream)

    async def _server_request(self, upstream: str, msg: JSON, channel: Channel | None) -> None:
        s = self.session
        ex = Exchange(msg["method"], upstream, s.principal, s.id, msg.get("id"), None, {}, s.state)
        try:
            msg = await self.core.pipeline.run("server_request", ex, msg)
        except Denied as exc:
            with contextlib.suppress(UpstreamError):
                await self.fanout.send(
                    upstream,
                    jsonrpc.error(
                        msg["id"],
                        jsonrpc.DENIED,
                        exc.decision.message or "denied",
                        reason=exc.decision.reason,
                    ),
                )
            return
        gw_id = f"{upstream}-{next(self._ids)}"
        self._server_requests[gw_id] = (upstream, msg["id"])
        out = dict(msg)
        out["id"] = gw_id
        self._to_client(out, channel)

    async def _server_notification(self, upstream: str, msg: JSON, channel: Channel | None) -> None:
        method = msg["method"]
        s = self.session
        ex = Exchange(method, upstream, s.principal, s.id, None, None, {}, s.state)
        try:
            msg = await self.core.pipeline.run("notification", ex, msg)
        except Denied:
            return
        self.definitions.list_changed(upstream, method)
        params = msg.get("params")
        if isinstance(params, dict):
            if method == "notifications/cancelled":
                # The upstream withdrew one of its own requests: name it by our id.
                original = params.get("requestId")
                for gw_id, (up, orig) in list(self._server_requests.items()):
                    if up == upstream and orig == original:
                        msg = {**msg, "params": {**params, "requestId": gw_id}}
                        del self._server_requests[gw_id]
                        break
            elif (
                s.aggregate
                and method == "notifications/resources/updated"
                and isinstance(params.get("uri"), str)
            ):
                msg = {**msg, "params": {**params, "uri": prefix_uri(upstream, params["uri"])}}
        self._to_client(msg, channel)

    def _to_client(self, msg: JSON, channel: Channel | None) -> None:
        if channel is not None and not channel.done:
            channel.push(msg)
        elif self.get_streams > 0 or self.session.transport == "stdio":
            self.unsolicited.put_nowait(msg)
        else:
            self._backlog.append(msg)  # held for the next GET stream (bounded)

    # ------------------------------------------------------------------ client → upstream

    async def client_response(self, msg: JSON) -> None:
        """A client's answer to a server-initiated request: route it to its upstream."""
        target = self._server_requests.pop(str(msg.get("id")), None)
        if target is None:
            self.core.audit_event(
                "error",
                session=self.session.id,
                reason="response.unknown_id",
                message="response to no pending request",
            )
            return
        upstream, original_id = target
        out = dict(msg)
        out["id"] = original_id
        try:
            await self.fanout.send(upstream, out)
        except UpstreamError as exc:
            self.core.audit_event(
                "error", session=self.session.id, upstream=upstream, reason=exc.reason, message=str(exc)
            )

    # ------------------------------------------------------------------ GET streams

    def stream_opened(self) -> None:
        self.get_streams += 1
        while self._backlog:
            self.unsolicited.put_nowait(self._backlog.popleft())

    def stream_closed(self) -> None:
        self.get_streams = max(0, self.get_streams - 1)

    def end_streams(self) -> None:
        """Wake each open GET stream so that it ends (the session is closing)."""
        for _ in range(self.get_streams):
            self.unsolicited.put_nowait(None)
