"""One client session: its upstream connections, in-flight requests and message routing.

A session owns one upstream session per upstream it fronts (never shared between
clients), so request ids never collide across users. Towards each upstream the gateway
uses its own request ids and maps replies back; server-initiated requests get
gateway-minted ids so that two upstreams on the aggregated endpoint cannot clash on the
client side.

Messages flow to the client on `Channel`s: one per client request (intermediate
notifications and server requests, then the final response) plus one `unsolicited`
queue read by GET streams (or the wrapper's stdout).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from mcpwarden.config import SUPPORTED_PROTOCOL_VERSIONS, HttpUpstream, StdioUpstream
from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.naming import prefix_content_uris, prefix_name, prefix_uri, split_name, split_uri
from mcpwarden.gateway.pipeline import REQUEST_HOOKS, RESULT_HOOKS, AuditRefused, Denied
from mcpwarden.gateway.quotas import QuotaExceeded
from mcpwarden.gateway.upstream import UpstreamConnection, UpstreamError, connect_upstream
from mcpwarden.guards.base import Exchange, Principal

if TYPE_CHECKING:
    from mcpwarden.gateway.core import GatewayCore

log = logging.getLogger("mcpwarden.session")

JSON = dict[str, Any]
UNSOLICITED_BUFFER = 1000

# List methods, the key holding the items, and how items are named on the aggregated endpoint.
LIST_METHODS: dict[str, tuple[str, str, str]] = {
    "tools/list": ("tools", "name", "tools"),
    "prompts/list": ("prompts", "name", "prompts"),
    "resources/list": ("resources", "uri", "resources"),
    "resources/templates/list": ("resourceTemplates", "uriTemplate", "resources"),
}


# A list_changed notification makes the gateway re-list through the guards at once, so a
# changed definition is quarantined before any client acts on it.
LIST_CHANGED: dict[str, str] = {
    "notifications/tools/list_changed": "tools/list",
    "notifications/prompts/list_changed": "prompts/list",
    "notifications/resources/list_changed": "resources/templates/list",
}


# Requests that use a listed definition, and so must wait for a pending re-check.
DEFINITION_USES = frozenset({"tools/call", "prompts/get", "resources/read", "completion/complete"})
RECHECK_WAIT_S = 10.0


class UpstreamTimeout(Exception):
    pass


@dataclass(slots=True)
class Channel:
    """Messages for one client request, ending with its response (`final`)."""

    client_id: Any
    upstream: str | None = None
    progress_token: Any = None
    queue: asyncio.Queue[tuple[JSON, bytes | None]] = field(default_factory=asyncio.Queue)
    done: bool = False

    def push(self, msg: JSON) -> None:
        self.queue.put_nowait((msg, None))

    def finish(self, msg: JSON | None) -> int:
        """Queue the final response (None: the request was cancelled, end without one).

        Serializes it once, here, and returns its size for the audit record.
        """
        if self.done:
            return 0
        self.done = True
        data = orjson.dumps(msg) if msg is not None else b""
        self.queue.put_nowait((msg or {}, data))
        return len(data)


@dataclass(slots=True)
class _Pending:
    future: asyncio.Future[JSON]
    channel: Channel | None


class Session:
    def __init__(
        self,
        core: GatewayCore,
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
        self.conns: dict[str, UpstreamConnection] = {}
        self.capabilities: dict[str, JSON] = {}
        self.unsolicited: asyncio.Queue[JSON | None] = asyncio.Queue()
        self._backlog: deque[JSON] = deque(maxlen=UNSOLICITED_BUFFER)
        self.get_streams = 0
        self.stdio_children = 0  # counted against the principal's quota until close
        self.closed = False
        self.upstream_gone = asyncio.Event()
        self._ids = itertools.count(1)
        self._pending: dict[tuple[str, int], _Pending] = {}
        self._server_requests: dict[str, tuple[str, Any]] = {}
        self._channels: dict[Any, Channel] = {}
        self._tasks: dict[Any, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        # The re-list an upstream's list_changed started; calls to it wait for it to finish.
        self._rechecks: dict[str, asyncio.Task[None]] = {}

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

    def _credential_hook(self, upstream: str) -> Callable[[], Awaitable[dict[str, str]]] | None:
        provider = self.core.upstream_auth.get(upstream)
        if provider is None:
            return None

        async def headers() -> dict[str, str]:
            return await provider.headers(principal=self.principal, subject_token=self.subject_token)

        return headers

    async def close(self, reason: str = "closed") -> None:
        if self.closed:
            return
        self.closed = True
        for task in list(self._tasks.values()):
            task.cancel()
        for channel in list(self._channels.values()):
            channel.finish(None)
        for _ in range(self.get_streams):
            self.unsolicited.put_nowait(None)  # wakes each open GET stream so it ends
        await asyncio.gather(*(c.close() for c in self.conns.values()), return_exceptions=True)
        self.core.quotas.release_children(self.principal.key, self.stdio_children)
        self.stdio_children = 0
        self.core.audit_event("session.end", session=self.id, principal=self.principal.key, reason=reason)

    # ------------------------------------------------------------------ client → gateway

    def handle_request(self, msg: JSON, request_bytes: int = 0) -> Channel:
        """Start processing a client request; the returned channel yields its messages."""
        self.touch()
        params = msg.get("params")
        meta = params.get("_meta") if isinstance(params, dict) else None
        channel = Channel(
            msg["id"], progress_token=meta.get("progressToken") if isinstance(meta, dict) else None
        )
        if msg["id"] in self._channels:
            channel.finish(
                jsonrpc.error(msg["id"], jsonrpc.INVALID_REQUEST, "request id already in use in this session")
            )
            return channel
        self._channels[msg["id"]] = channel
        task = asyncio.create_task(self._process(msg, channel, request_bytes))
        self._tasks[msg["id"]] = task
        return channel

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
        for name, conn in list(self.conns.items()):
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
        target = self._server_requests.pop(str(msg.get("id")), None)
        if target is None:
            self.core.audit_event(
                "error",
                session=self.id,
                reason="response.unknown_id",
                message="response to no pending request",
            )
            return
        upstream, original_id = target
        conn = self.conns.get(upstream)
        if conn is None:
            return
        out = dict(msg)
        out["id"] = original_id
        try:
            await conn.send(out)
        except UpstreamError as exc:
            self.core.audit_event(
                "error", session=self.id, upstream=upstream, reason=exc.reason, message=str(exc)
            )

    async def _client_cancelled(self, params: JSON) -> None:
        request_id = params.get("requestId")
        channel = self._channels.get(request_id)
        if channel is None:
            return
        for (upstream, up_id), pending in list(self._pending.items()):
            if pending.channel is channel:
                conn = self.conns.get(upstream)
                if conn is not None:
                    with contextlib.suppress(UpstreamError):
                        await conn.send(
                            jsonrpc.notification("notifications/cancelled", {**params, "requestId": up_id})
                        )
                    conn.abandon(up_id)
        task = self._tasks.get(request_id)
        if task is not None:
            task.cancel()
        channel.finish(None)

    # ------------------------------------------------------------------ request processing

    async def _process(self, msg: JSON, channel: Channel, request_bytes: int) -> None:
        started = time.perf_counter()
        method: str = msg["method"]
        client_id = msg["id"]
        params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
        assert isinstance(params, dict)
        record: JSON = {"upstream": None, "tool": None, "decision": "allow", "guard": None, "reason": None}
        response: JSON
        try:
            # Audit before effect: nothing is forwarded for a request that has no record.
            await self.core.audit_request_start(
                session=self.id,
                principal=self.principal.key,
                upstream=None if self.aggregate else self.upstream_names[0],
                method=method,
                tool=params.get("name") if method == "tools/call" else None,
                request_id=client_id,
                arguments=params.get("arguments") if method == "tools/call" else None,
            )
            response = await self._dispatch(method, client_id, params, channel, record)
        except AuditRefused as exc:
            record.update(decision="refused", reason=exc.reason)
            response = jsonrpc.error(client_id, jsonrpc.AUDIT_UNAVAILABLE, str(exc), reason=exc.reason)
        except Denied as exc:
            d = exc.decision
            record.update(decision="deny", guard=exc.guard, reason=d.reason)
            response = jsonrpc.error(
                client_id,
                jsonrpc.DENIED,
                d.message or "denied by gateway policy",
                reason=d.reason,
                guard=exc.guard,
            )
        except UpstreamTimeout as exc:
            record.update(decision="error", reason="upstream.timeout")
            response = jsonrpc.error(client_id, jsonrpc.UPSTREAM_TIMEOUT, str(exc), reason="upstream.timeout")
        except UpstreamError as exc:
            record.update(decision="error", reason=exc.reason)
            response = jsonrpc.error(client_id, jsonrpc.UPSTREAM_UNAVAILABLE, str(exc), reason=exc.reason)
        except _ClientError as exc:
            record.update(decision="error", reason=exc.reason)
            response = jsonrpc.error(client_id, exc.code, str(exc), reason=exc.reason)
        except asyncio.CancelledError:
            record.update(decision="cancelled")
            self._finish_request(channel, None, method, params, record, started, request_bytes)
            raise
        except Exception as exc:  # never let one bad request take the session down
            log.exception("internal error handling %s", method)
            record.update(decision="error", reason="gateway.internal")
            response = jsonrpc.error(client_id, jsonrpc.INTERNAL_ERROR, f"internal gateway error: {exc}")
        self._finish_request(channel, response, method, params, record, started, request_bytes)

    def _finish_request(
        self,
        channel: Channel,
        response: JSON | None,
        method: str,
        params: JSON,
        record: JSON,
        started: float,
        request_bytes: int,
    ) -> None:
        response_bytes = channel.finish(response)
        self._channels.pop(channel.client_id, None)
        self._tasks.pop(channel.client_id, None)
        if response is not None and "error" in response and record["decision"] == "allow":
            record["decision"] = "error"
            record["reason"] = (
                (response["error"].get("data") or {}).get("reason")
                if isinstance(response["error"].get("data"), dict)
                else "upstream.error"
            )
        args = params.get("arguments") if method == "tools/call" else None
        self.core.audit_request(
            session=self.id,
            principal=self.principal.key,
            method=method,
            request_id=channel.client_id,
            latency_ms=(time.perf_counter() - started) * 1000,
            request_bytes=request_bytes,
            response_bytes=response_bytes,
            arguments=args,
            **record,
        )

    async def _dispatch(
        self, method: str, client_id: Any, params: JSON, channel: Channel, record: JSON
    ) -> JSON:
        if method == "initialize":
            return await self._initialize(client_id, params)
        if self.aggregate:
            if method == "ping":
                return jsonrpc.result(client_id, {})
            if method in LIST_METHODS:
                return await self._aggregate_list(method, client_id, params)
            if method == "logging/setLevel":
                await self._broadcast(method, params, "logging")
                return jsonrpc.result(client_id, {})
            upstream, params = self._route(method, params)
        else:
            upstream = self.upstream_names[0]
        return await self._forward(upstream, method, client_id, params, channel, record)

    def _route(self, method: str, params: JSON) -> tuple[str, JSON]:
        """Find the owner of an aggregated name and give back the upstream's own params."""
        out = dict(params)
        if method in ("tools/call", "prompts/get"):
            split = split_name(str(params.get("name", "")))
            if split is None or split[0] not in self.conns:
                raise _ClientError(f"unknown {method.split('/')[0][:-1]} {params.get('name')!r}")
            out["name"] = split[1]
            return split[0], out
        if method in ("resources/read", "resources/subscribe", "resources/unsubscribe"):
            split = split_uri(str(params.get("uri", "")))
            if split is None or split[0] not in self.conns:
                raise _ClientError(f"unknown resource {params.get('uri')!r}")
            out["uri"] = split[1]
            return split[0], out
        if method == "completion/complete":
            ref = params.get("ref") if isinstance(params.get("ref"), dict) else {}
            assert isinstance(ref, dict)
            key = "name" if ref.get("type") == "ref/prompt" else "uri"
            value = str(ref.get(key, ""))
            split = split_name(value) if key == "name" else split_uri(value)
            if split is None or split[0] not in self.conns:
                raise _ClientError(f"unknown completion reference {value!r}")
            out["ref"] = {**ref, key: split[1]}
            return split[0], out
        if len(self.conns) == 1:
            return next(iter(self.conns)), out
        raise _ClientError(
            f"method {method!r} cannot be routed on the aggregated endpoint; use /servers/<name>/mcp",
            code=jsonrpc.METHOD_NOT_FOUND,
            reason="method.not_routable",
        )

    async def _forward(
        self, upstream: str, method: str, client_id: Any, params: JSON, channel: Channel, record: JSON
    ) -> JSON:
        tool = str(params.get("name")) if method == "tools/call" else None
        await self._await_recheck(upstream, method)
        record["upstream"] = upstream
        record["tool"] = tool
        ex = Exchange(method, upstream, self.principal, self.id, client_id, tool, params, self.state)
        pipeline = self.core.pipeline
        params = await pipeline.run("request", ex, params)
        hook = REQUEST_HOOKS.get(method)
        if hook is not None:
            params = await pipeline.run(hook, ex, params)
            ex.params = params
        channel.upstream = upstream
        reply = await self._upstream_request(upstream, method, params, channel)
        if "result" not in reply:
            out = dict(reply)
            out["id"] = client_id
            return out
        result = reply["result"]
        hook = RESULT_HOOKS.get(method)
        if hook is not None and isinstance(result, dict):
            result = await pipeline.run(hook, ex, result)
        if self.aggregate and isinstance(result, dict):
            result = self._prefix_result(upstream, method, result)
        return jsonrpc.result(client_id, result)

    async def _await_recheck(self, upstream: str, method: str) -> None:
        """Hold a use of a definition while the upstream's announced change is re-checked.

        Every guard then judges the call against the new definitions, whichever order they
        run in; if the re-list does not finish in time the call is refused (fail closed).
        """
        task = self._rechecks.get(upstream)
        if task is None or task.done() or method not in DEFINITION_USES:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), RECHECK_WAIT_S)
        except TimeoutError:
            raise _ClientError(
                f"{upstream!r} announced changed definitions that are still being checked; retry shortly",
                code=jsonrpc.DENIED,
                reason="integrity.recheck_pending",
            ) from None

    def _prefix_result(self, upstream: str, method: str, result: JSON) -> JSON:
        if method == "tools/call":
            prefix_content_uris(upstream, result.get("content"))
        elif method == "prompts/get":
            for m in result.get("messages") or []:
                if isinstance(m, dict):
                    prefix_content_uris(upstream, [m.get("content")])
        elif method == "resources/read":
            for c in result.get("contents") or []:
                if isinstance(c, dict) and isinstance(c.get("uri"), str):
                    c["uri"] = prefix_uri(upstream, c["uri"])
        return result

    # ------------------------------------------------------------------ initialize / aggregation

    async def _initialize(self, client_id: Any, params: JSON) -> JSON:
        requested = params.get("protocolVersion")
        if self.conns:
            raise _ClientError("session is already initialized", code=jsonrpc.INVALID_REQUEST)
        results = await asyncio.gather(
            *(self._init_upstream(name, params) for name in self.upstream_names), return_exceptions=True
        )
        ok: dict[str, JSON] = {}
        for name, res in zip(self.upstream_names, results, strict=True):
            if isinstance(res, BaseException):
                self.core.audit_event(
                    "error",
                    session=self.id,
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
            first = next((r for r in results if isinstance(r, UpstreamError)), None)
            if first is not None and len(results) == 1:
                raise first  # its own reason (a quota, an unreachable server) tells the client most
            raise UpstreamError("no upstream could be initialized", reason="upstream.unavailable")
        # Integrity guards judge calls against the definitions an upstream lists, so list
        # them now: a client that calls a tool without listing first is checked the same way.
        if self.core.pipeline.has("tools_list") or self.core.pipeline.has("prompts_list"):
            await asyncio.gather(*(self.recheck(name) for name in ok if "result" in ok[name]))
        if not self.aggregate:
            name, reply = next(iter(ok.items()))
            if "result" not in reply:
                out = dict(reply)
                out["id"] = client_id
                return out
            result = reply["result"]
            self.protocol_version = result.get("protocolVersion")
            return jsonrpc.result(client_id, result)
        version = requested if requested in SUPPORTED_PROTOCOL_VERSIONS else SUPPORTED_PROTOCOL_VERSIONS[-1]
        self.protocol_version = version
        return jsonrpc.result(client_id, self._merged_init(version, ok))

    async def _init_upstream(self, name: str, params: JSON) -> JSON:
        cfg = self.core.config.upstreams[name]
        if isinstance(cfg, StdioUpstream):
            try:
                self.core.quotas.claim_child(self.principal.key)
            except QuotaExceeded as exc:
                raise UpstreamError(str(exc), reason=exc.reason) from None
            self.stdio_children += 1
        conn = connect_upstream(
            name,
            cfg,
            http_client=self.core.http_client,
            on_message=functools.partial(self._from_upstream, name),
            on_closed=functools.partial(self._upstream_closed, name),
            on_event=self._upstream_event,
            credentials=self._credential_hook(name),
        )
        self.conns[name] = conn
        if isinstance(cfg, StdioUpstream):
            self.core.audit_event(
                "upstream.start",
                session=self.id,
                upstream=name,
                principal=self.principal.key,
                details={
                    "command": cfg.command,
                    "args": cfg.args,
                    "env_keys": sorted(cfg.child_environment()),
                },
            )
        await asyncio.wait_for(conn.start(), cfg.connect_timeout_s)
        reply = await self._upstream_request(name, "initialize", params, None, timeout=cfg.connect_timeout_s)
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
            if self.aggregate:
                raise UpstreamError(
                    f"upstream {name!r} failed to initialize: {err.get('message')}", reason=reason
                )
            self.core.audit_event(
                "error",
                session=self.id,
                upstream=name,
                method="initialize",
                reason=reason,
                message=str(err.get("message")),
            )
        return reply

    def _merged_init(self, version: str, replies: dict[str, JSON]) -> JSON:
        from mcpwarden import __version__

        caps: JSON = {}
        instructions: list[str] = []
        for name, reply in replies.items():
            result = reply.get("result") or {}
            up_caps = result.get("capabilities") or {}
            for key in ("tools", "prompts", "resources", "logging", "completions"):
                if key in up_caps:
                    merged = caps.setdefault(key, {})
                    if isinstance(up_caps[key], dict):
                        for flag, value in up_caps[key].items():
                            if value is True:
                                merged[flag] = True
            if result.get("instructions"):
                instructions.append(f"[{name}] {result['instructions']}")
        out: JSON = {
            "protocolVersion": version,
            "capabilities": caps,
            "serverInfo": {"name": "mcpwarden", "title": "mcpwarden gateway", "version": __version__},
        }
        if instructions:
            out["instructions"] = "\n\n".join(instructions)
        return out

    async def _aggregate_list(self, method: str, client_id: Any, params: JSON) -> JSON:
        key, name_field, capability = LIST_METHODS[method]
        names = [n for n in self.conns if capability in self.capabilities.get(n, {})]
        results = await asyncio.gather(
            *(self._list_one(n, method, key) for n in names), return_exceptions=True
        )
        merged: list[JSON] = []
        for name, res in zip(names, results, strict=True):
            if isinstance(res, Denied):
                continue
            if isinstance(res, BaseException):
                self.core.audit_event(
                    "error",
                    session=self.id,
                    upstream=name,
                    method=method,
                    reason=getattr(res, "reason", "upstream.error"),
                    message=str(res),
                )
                continue
            for item in res:
                item = dict(item)
                value = item.get(name_field)
                if isinstance(value, str):
                    item[name_field] = (
                        prefix_name(name, value) if name_field == "name" else prefix_uri(name, value)
                    )
                merged.append(item)
        return jsonrpc.result(client_id, {key: merged})

    async def _list_one(self, upstream: str, method: str, key: str) -> list[JSON]:
        items: list[JSON] = []
        cursor: str | None = None
        for _ in range(100):  # bound the pages an upstream can make us fetch
            params: JSON = {"cursor": cursor} if cursor else {}
            reply = await self._upstream_request(upstream, method, params, None)
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
            ex = Exchange(method, upstream, self.principal, self.id, None, None, {}, self.state)
            filtered = await self.core.pipeline.run(hook, ex, {key: items})
            items = filtered.get(key, [])
        return items

    async def recheck(self, upstream: str, methods: tuple[str, ...] | None = None) -> None:
        """List an upstream's definitions through the guards (pinning, poisoning) now."""
        caps = self.capabilities.get(upstream, {})
        wanted = methods or ("tools/list", "prompts/list", "resources/templates/list")
        for method in wanted:
            key, _, capability = LIST_METHODS[method]
            if capability not in caps or not self.core.pipeline.has(RESULT_HOOKS[method]):
                continue
            try:
                await self._list_one(upstream, method, key)
            except (UpstreamError, UpstreamTimeout, Denied) as exc:
                self.core.audit_event(
                    "error",
                    session=self.id,
                    upstream=upstream,
                    method=method,
                    reason=getattr(exc, "reason", "upstream.error"),
                    message=f"re-check failed: {exc}",
                )

    async def _broadcast(self, method: str, params: JSON, capability: str) -> None:
        names = [n for n in self.conns if capability in self.capabilities.get(n, {})]
        await asyncio.gather(
            *(self._upstream_request(n, method, params, None) for n in names), return_exceptions=True
        )

    # ------------------------------------------------------------------ gateway → upstream

    async def _upstream_request(
        self,
        upstream: str,
        method: str,
        params: JSON,
        channel: Channel | None,
        *,
        timeout: float | None = None,
    ) -> JSON:
        conn = self.conns.get(upstream)
        if conn is None or conn.closed:
            raise UpstreamError(f"upstream {upstream!r} is not connected", reason="upstream.unavailable")
        up_id = next(self._ids)
        loop = asyncio.get_running_loop()
        pending = _Pending(loop.create_future(), channel)
        self._pending[(upstream, up_id)] = pending
        limit = timeout if timeout is not None else self.core.config.upstreams[upstream].timeout_s
        try:
            await conn.send({"jsonrpc": "2.0", "id": up_id, "method": method, "params": params})
            return await asyncio.wait_for(pending.future, limit)
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

    # ------------------------------------------------------------------ upstream → gateway

    async def _from_upstream(self, upstream: str, msg: JSON, related: Any) -> None:
        if "method" not in msg:
            pending = self._pending.get((upstream, msg.get("id")))  # type: ignore[arg-type]
            if pending is not None and not pending.future.done():
                pending.future.set_result(msg)
            else:
                self.core.audit_event(
                    "error",
                    session=self.id,
                    upstream=upstream,
                    reason="upstream.stale_response",
                    message="response to no pending request (late or unknown id)",
                )
            return
        channel = self._related_channel(upstream, msg, related)
        if "id" in msg:
            await self._server_request(upstream, msg, channel)
        else:
            await self._server_notification(upstream, msg, channel)

    def _related_channel(self, upstream: str, msg: JSON, related: Any) -> Channel | None:
        if related is not None:
            pending = self._pending.get((upstream, related))
            if pending is not None and pending.channel is not None and not pending.channel.done:
                return pending.channel
            return None
        params = msg.get("params")
        if msg.get("method") == "notifications/progress" and isinstance(params, dict):
            token = params.get("progressToken")
            for ch in self._channels.values():
                if ch.progress_token is not None and ch.progress_token == token and not ch.done:
                    return ch
        # stdio carries no relation; with exactly one request in flight it is unambiguous.
        in_flight = [
            p.channel for (u, _), p in self._pending.items() if u == upstream and p.channel is not None
        ]
        if len(in_flight) == 1 and in_flight[0] is not None and not in_flight[0].done:
            return in_flight[0]
        return None

    async def _server_request(self, upstream: str, msg: JSON, channel: Channel | None) -> None:
        ex = Exchange(msg["method"], upstream, self.principal, self.id, msg.get("id"), None, {}, self.state)
        try:
            msg = await self.core.pipeline.run("server_request", ex, msg)
        except Denied as exc:
            conn = self.conns.get(upstream)
            if conn is not None:
                with contextlib.suppress(UpstreamError):
                    await conn.send(
                        jsonrpc.error(
                            msg["id"],
                            jsonrpc.DENIED,
                            exc.decision.message or "denied",
                            reason=exc.decision.reason,
                        )
                    )
            return
        gw_id = f"{upstream}-{next(self._ids)}"
        self._server_requests[gw_id] = (upstream, msg["id"])
        out = dict(msg)
        out["id"] = gw_id
        self._to_client(out, channel)

    async def _server_notification(self, upstream: str, msg: JSON, channel: Channel | None) -> None:
        method = msg["method"]
        ex = Exchange(method, upstream, self.principal, self.id, None, None, {}, self.state)
        try:
            msg = await self.core.pipeline.run("notification", ex, msg)
        except Denied:
            return
        if method in LIST_CHANGED:
            task = asyncio.create_task(self.recheck(upstream, (LIST_CHANGED[method],)))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            self._rechecks[upstream] = task
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
                self.aggregate
                and method == "notifications/resources/updated"
                and isinstance(params.get("uri"), str)
            ):
                msg = {**msg, "params": {**params, "uri": prefix_uri(upstream, params["uri"])}}
        self._to_client(msg, channel)

    def _to_client(self, msg: JSON, channel: Channel | None) -> None:
        if channel is not None and not channel.done:
            channel.push(msg)
        elif self.get_streams > 0 or self.transport == "stdio":
            self.unsolicited.put_nowait(msg)
        else:
            self._backlog.append(msg)  # held for the next GET stream (bounded)

    def stream_opened(self) -> None:
        self.get_streams += 1
        while self._backlog:
            self.unsolicited.put_nowait(self._backlog.popleft())

    def stream_closed(self) -> None:
        self.get_streams = max(0, self.get_streams - 1)

    async def _upstream_closed(self, upstream: str, reason: str) -> None:
        if self.closed:
            return
        self.core.audit_event("upstream.closed", session=self.id, upstream=upstream, reason=reason)
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
        self.core.audit_event("alert", session=self.id, upstream=upstream, reason=what, message=detail)


class _ClientError(Exception):
    def __init__(
        self, message: str, *, code: int = jsonrpc.INVALID_PARAMS, reason: str = "request.invalid"
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


def upstream_kind(cfg: HttpUpstream | StdioUpstream) -> str:
    return cfg.transport
