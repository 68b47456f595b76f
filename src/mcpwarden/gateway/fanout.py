"""The upstream side of one client session: connect, initialize, send requests, match replies.

A session owns one upstream session per upstream it fronts (never shared between
clients), so request ids never collide across users. Towards each upstream the gateway
uses its own request ids and maps replies back here; messages that are not replies
(server requests and notifications) are handed to the session's relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from mcpwarden.config import SUPPORTED_PROTOCOL_VERSIONS, StdioUpstream
from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.channel import Channel, Pending
from mcpwarden.gateway.errors import UpstreamTimeout
from mcpwarden.gateway.quotas import QuotaExceeded
from mcpwarden.gateway.services import SessionView
from mcpwarden.gateway.upstream import UpstreamConnection, UpstreamError, connect_upstream
from mcpwarden.gateway.upstream.stateless import StatelessUpstream

log = logging.getLogger("mcpwarden.session")

JSON = dict[str, Any]
# (upstream, message, related upstream request id or None)
ServerMessageHandler = Callable[[str, JSON, Any], Awaitable[None]]


class Fanout:
    """The upstream sessions of one client session and the requests in flight on them."""

    def __init__(self, session: SessionView, on_server_message: ServerMessageHandler) -> None:
        self.session = session
        self.core = session.core
        self._on_server_message = on_server_message
        self.conns: dict[str, UpstreamConnection] = {}
        self.capabilities: dict[str, JSON] = {}
        self.upstream_gone = asyncio.Event()
        self._ids = itertools.count(1)
        self._pending: dict[tuple[str, int], Pending] = {}
        self._children = 0  # stdio processes counted against the principal's quota until close

    def has_capability(self, upstream: str, capability: str) -> bool:
        return capability in self.capabilities.get(upstream, {})

    def with_capability(self, capability: str) -> list[str]:
        return [n for n in self.conns if self.has_capability(n, capability)]

    # ------------------------------------------------------------------ connect / initialize

    def _credential_hook(self, upstream: str) -> Callable[[], Awaitable[dict[str, str]]] | None:
        provider = self.core.upstream_auth.get(upstream)
        if provider is None:
            return None
        session = self.session

        async def headers() -> dict[str, str]:
            return await provider.headers(principal=session.principal, subject_token=session.subject_token)

        return headers

    async def initialize_all(self, params: JSON, names: list[str]) -> dict[str, JSON]:
        """Connect and initialize each upstream of `names`; the replies of those that answered.

        `names` are the session's upstreams that the request guards let the caller reach.
        An upstream that fails is audited and dropped; only when none answers is the
        whole initialize refused.
        """
        if not names:
            raise UpstreamError("no upstream to initialize", reason="upstream.unavailable")
        results = await asyncio.gather(
            *(self._init_upstream(name, params) for name in names), return_exceptions=True
        )
        ok: dict[str, JSON] = {}
        for name, res in zip(names, results, strict=True):
            if isinstance(res, BaseException):
                self.core.audit_event(
                    "error",
                    session=self.session.id,
                    upstream=name,
                    method="initialize",
                    reason=getattr(res, "reason", "upstream.unavailable"),
                    message=str(res),
                )
                conn = self.conns.pop(name, None)
                if conn is not None:
                    await conn.close()
            else:
                ok[name] = res
        if not ok:
            first = results[0]
            if len(results) == 1 and isinstance(first, UpstreamError):
                raise first  # its own reason (a quota, an unreachable server) tells the client most
            raise UpstreamError("no upstream could be initialized", reason="upstream.unavailable")
        return ok

    async def _init_upstream(self, name: str, params: JSON) -> JSON:
        cfg = self.core.config.upstreams[name]
        session = self.session
        on_message = functools.partial(self._from_upstream, name)
        on_closed = functools.partial(self._upstream_closed, name)
        conn: UpstreamConnection
        if isinstance(cfg, StdioUpstream) and cfg.shared:
            # One process for every session: not counted per session (docs/configuration.md).
            conn = self.core.shared_stdio.connect(name, cfg, on_message, on_closed, self._upstream_event)
        else:
            if isinstance(cfg, StdioUpstream):
                try:
                    self.core.quotas.claim_child(session.principal.key)
                except QuotaExceeded as exc:
                    raise UpstreamError(str(exc), reason=exc.reason) from None
                self._children += 1
            bridge = StatelessUpstream(name, on_message, on_closed) if cfg.era == "stateless" else None
            conn = connect_upstream(
                name,
                cfg,
                http_client=self.core.http_client,
                on_message=bridge.from_inner if bridge is not None else on_message,
                on_closed=bridge.inner_closed if bridge is not None else on_closed,
                on_event=self._upstream_event,
                credentials=self._credential_hook(name),
            )
            if bridge is not None:
                bridge.wrap(conn)
                conn = bridge
        self.conns[name] = conn
        if isinstance(cfg, StdioUpstream):
            self.core.audit_event(
                "upstream.start",
                session=session.id,
                upstream=name,
                principal=session.principal.key,
                details={
                    "command": cfg.command,
                    "args": cfg.args,
                    "env_keys": sorted(cfg.child_environment()),
                    "shared": cfg.shared,
                },
            )
        async with asyncio.timeout(cfg.connect_timeout_s):
            await conn.start()
        reply = await self.request(name, "initialize", params, None, timeout=cfg.connect_timeout_s)
        result = reply.get("result")
        if isinstance(result, dict):
            version = result.get("protocolVersion")
            if version not in SUPPORTED_PROTOCOL_VERSIONS:
                raise UpstreamError(
                    f"upstream {name!r} negotiated unsupported protocol version {version!r}",
                    reason="upstream.protocol_version",
                )
            conn.protocol_version = version
            caps = result.get("capabilities")
            self.capabilities[name] = caps if isinstance(caps, dict) else {}
        else:
            raw_err = reply.get("error")
            err: JSON = raw_err if isinstance(raw_err, dict) else {}
            raw_data = err.get("data")
            data: JSON = raw_data if isinstance(raw_data, dict) else {}
            reason = str(data.get("reason") or "upstream.initialize_failed")
            if session.aggregate:
                raise UpstreamError(
                    f"upstream {name!r} failed to initialize: {err.get('message')}", reason=reason
                )
            self.core.audit_event(
                "error",
                session=session.id,
                upstream=name,
                method="initialize",
                reason=reason,
                message=str(err.get("message")),
            )
        return reply

    # ------------------------------------------------------------------ gateway → upstream

    async def request(
        self,
        upstream: str,
        method: str,
        params: JSON,
        channel: Channel | None,
        *,
        timeout: float | None = None,
    ) -> JSON:
        """Send a request upstream under a gateway-minted id and wait (bounded) for its reply."""
        conn = self.conns.get(upstream)
        if conn is None or conn.closed:
            raise UpstreamError(f"upstream {upstream!r} is not connected", reason="upstream.unavailable")
        up_id = next(self._ids)
        loop = asyncio.get_running_loop()
        pending = Pending(loop.create_future(), channel)
        self._pending[(upstream, up_id)] = pending
        limit = timeout if timeout is not None else self.core.config.upstreams[upstream].timeout_s
        try:
            await conn.send({"jsonrpc": "2.0", "id": up_id, "method": method, "params": params})
            async with asyncio.timeout(limit):
                return await pending.future
        except TimeoutError:
            conn.abandon(up_id)
            with contextlib.suppress(UpstreamError):
                await conn.send(
                    jsonrpc.notification(
                        "notifications/cancelled", {"requestId": up_id, "reason": "gateway timeout"}
                    )
                )
            raise UpstreamTimeout(
                f"upstream {upstream!r} did not answer {method} within {limit:g}s"
            ) from None
        except asyncio.CancelledError:
            conn.abandon(up_id)
            raise
        finally:
            self._pending.pop((upstream, up_id), None)

    async def broadcast(self, method: str, params: JSON, upstreams: list[str]) -> None:
        """Send one request to each of `upstreams` (already guarded); failures are ignored."""
        await asyncio.gather(
            *(self.request(n, method, params, None) for n in upstreams),
            return_exceptions=True,
        )

    def working_for(self, channel: Channel) -> list[tuple[str, int]]:
        """The (upstream, upstream id) pairs still working for `channel`'s request."""
        return [key for key, pending in self._pending.items() if pending.channel is channel]

    async def cancel_for(self, channel: Channel, params: JSON) -> None:
        """Tell each upstream working for `channel`'s request that the client cancelled it."""
        await self.notify_cancelled(self.working_for(channel), params)

    async def notify_cancelled(self, targets: list[tuple[str, int]], params: JSON) -> None:
        """Send `notifications/cancelled` for each (upstream, upstream id) and stop reading its reply."""
        for upstream, up_id in targets:
            conn = self.conns.get(upstream)
            if conn is not None:
                with contextlib.suppress(UpstreamError):
                    await conn.send(
                        jsonrpc.notification("notifications/cancelled", {**params, "requestId": up_id})
                    )
                conn.abandon(up_id)

    async def send(self, upstream: str, msg: JSON) -> None:
        """Send a message that expects no reply; raises UpstreamError if it cannot go."""
        conn = self.conns.get(upstream)
        if conn is None:
            raise UpstreamError(f"upstream {upstream!r} is not connected", reason="upstream.unavailable")
        await conn.send(msg)

    # ------------------------------------------------------------------ upstream → gateway

    async def _from_upstream(self, upstream: str, msg: JSON, related: Any) -> None:
        if jsonrpc.nesting_depth_exceeds(msg):
            await self._refuse_too_deep(upstream, msg)
            return
        if "method" not in msg:
            pending = self._pending_for(upstream, msg.get("id"))
            if pending is not None and not pending.future.done():
                pending.future.set_result(msg)
            else:
                self.core.audit_event(
                    "error",
                    session=self.session.id,
                    upstream=upstream,
                    reason="upstream.stale_response",
                    message="response to no pending request (late or unknown id)",
                )
            return
        await self._on_server_message(upstream, msg, related)

    async def _refuse_too_deep(self, upstream: str, msg: JSON) -> None:
        """Drop a message nested past `jsonrpc.MAX_DEPTH`; a reply becomes an error for its caller.

        Such a message could not be serialized again towards the client or into the audit log,
        so it is refused here, where every transport's messages arrive.
        """
        message = f"upstream message nests objects or arrays deeper than {jsonrpc.MAX_DEPTH} levels"
        log.debug("session %s: dropped a message from %s: %s", self.session.id, upstream, message)
        self.core.audit_event(
            "error",
            session=self.session.id,
            upstream=upstream,
            method=msg.get("method") if isinstance(msg.get("method"), str) else None,
            reason="upstream.too_deep",
            message=message,
        )
        if "method" in msg:
            return
        pending = self._pending_for(upstream, msg.get("id"))
        if pending is not None and not pending.future.done():
            pending.future.set_result(
                jsonrpc.error(
                    msg.get("id"),
                    jsonrpc.UPSTREAM_UNAVAILABLE,
                    message,
                    reason="upstream.too_deep",
                    upstream=upstream,
                )
            )

    def _pending_for(self, upstream: str, up_id: Any) -> Pending | None:
        """The request a reply answers; ids the gateway never minted (not integers) match none."""
        if not isinstance(up_id, int) or isinstance(up_id, bool):
            return None
        return self._pending.get((upstream, up_id))

    def channel_of(self, upstream: str, up_id: Any) -> Channel | None:
        """The open client channel that upstream request `up_id` serves, if any."""
        pending = self._pending_for(upstream, up_id)
        if pending is not None and pending.channel is not None and not pending.channel.done:
            return pending.channel
        return None

    async def _upstream_closed(self, upstream: str, reason: str) -> None:
        if self.session.closed:
            return
        self.core.audit_event("upstream.closed", session=self.session.id, upstream=upstream, reason=reason)
        if all(c.closed for c in self.conns.values()):
            self.upstream_gone.set()
        for (up, up_id), pending in list(self._pending.items()):
            if up == upstream and not pending.future.done():
                pending.future.set_result(
                    jsonrpc.error(
                        up_id,
                        jsonrpc.UPSTREAM_UNAVAILABLE,
                        f"upstream {upstream!r} went away: {reason}",
                        reason="upstream.closed",
                        upstream=upstream,
                    )
                )

    async def _upstream_event(self, upstream: str, what: str, detail: str) -> None:
        # A child's stderr is information (why it failed to start, usually), not an attack.
        event = "upstream.stderr" if what == "upstream.stderr" else "alert"
        self.core.audit_event(event, session=self.session.id, upstream=upstream, reason=what, message=detail)

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.conns.values()), return_exceptions=True)
        self.core.quotas.release_children(self.session.principal.key, self._children)
        self._children = 0
