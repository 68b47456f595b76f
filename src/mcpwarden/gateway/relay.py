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
import logging
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

log = logging.getLogger("mcpwarden.session")

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
        # gateway id -> (upstream, the upstream's own id, method)
        self._server_requests: dict[str, tuple[str, Any, str]] = {}

    # ------------------------------------------------------------------ upstream → client

    async def from_upstream(self, upstream: str, msg: JSON, related: Any) -> None:
        """A request or notification an upstream sent (replies never come here)."""
        channel = self._related_channel(upstream, msg, related)
        if "id" in msg:
            await self._server_request(upstream, msg, channel)
        else:
            await self._server_notification(upstream, msg, channel)

    def _related_channel(self, upstream: str, msg: JSON, related: Any) -> Channel | None:
        """The client request a message belongs to, by what the upstream itself said.

        An HTTP upstream relates a message by sending it on the request's own POST stream
        (`related`); a progress notification names its request by progress token. Anything
        else (the upstream's GET stream, a stdio message without a token) belongs to no call
        and goes to the session's own stream: guessing would put it on an unrelated call.
        """
        if related is not None:
            return self.fanout.channel_of(upstream, related)
        params = msg.get("params")
        if msg.get("method") == "notifications/progress" and isinstance(params, dict):
            return self.calls.by_progress_token(params.get("progressToken"), upstream)
        return None

    async def _server_request(self, upstream: str, msg: JSON, channel: Channel | None) -> None:
        s = self.session
        method = str(msg["method"])
        # Both directions are on the record: the request here, the client's answer below.
        self.core.audit_event(
            "server_request", session=s.id, upstream=upstream, method=method, request_id=_audit_id(msg)
        )
        ex = Exchange(method, upstream, s.principal, s.id, msg.get("id"), None, {}, s.state)
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
        self._server_requests[gw_id] = (upstream, msg["id"], method)
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
                for gw_id, (up, orig, _) in list(self._server_requests.items()):
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
            # Held for the next GET stream; when full the oldest message gives way, visibly.
            if len(self._backlog) == self._backlog.maxlen:
                self._dropped(
                    self._backlog[0], "relay.backlog_full", "no GET stream open and the backlog is full"
                )
            self._backlog.append(msg)

    def _dropped(self, msg: JSON, reason: str, why: str) -> None:
        method = msg.get("method") if isinstance(msg.get("method"), str) else None
        log.debug("session %s: dropped %s: %s", self.session.id, method or "a message", why)
        self.core.audit_event(
            "alert", session=self.session.id, method=method, reason=reason, message=f"message dropped: {why}"
        )

    def server_request_upstream(self, gw_id: Any) -> str | None:
        """The upstream behind a server request the client was sent under `gw_id`."""
        target = self._server_requests.get(str(gw_id))
        return target[0] if target is not None else None

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
        upstream, original_id, method = target
        s = self.session
        answer = "result" if "result" in msg else "error"
        self.core.audit_event(
            "client_response",
            session=s.id,
            upstream=upstream,
            method=method,
            request_id=_audit_id(msg),
            details={"answer": answer},
        )
        ex = Exchange(method, upstream, s.principal, s.id, original_id, None, {}, s.state)
        out = dict(msg)
        try:
            out = await self.core.pipeline.run("client_response", ex, out)
        except Denied as exc:
            # The answer is withheld; the upstream learns why instead.
            out = jsonrpc.error(
                original_id, jsonrpc.DENIED, exc.decision.message or "denied", reason=exc.decision.reason
            )
        out = {**out, "id": original_id}
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


def _audit_id(msg: JSON) -> str | int | None:
    value = msg.get("id")
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None
