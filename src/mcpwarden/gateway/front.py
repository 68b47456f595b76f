"""The Streamable HTTP front: what MCP clients talk to.

Transport checks (Host, Origin, protocol version, content type, body size) run before any
session or upstream work, so bad input costs the gateway almost nothing and never reaches
an upstream. Each rejection is an HTTP error with a JSON-RPC error body naming the reason,
and an audit record.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from mcpwarden.config import SUPPORTED_PROTOCOL_VERSIONS
from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.channel import Channel
from mcpwarden.gateway.core import GatewayCore
from mcpwarden.gateway.era import era_of
from mcpwarden.gateway.era_stateless import StatelessFront
from mcpwarden.gateway.http_errors import HttpRejection, error_response
from mcpwarden.gateway.quotas import QuotaExceeded
from mcpwarden.gateway.request_body import check_rate, invalid_reason, read_body
from mcpwarden.gateway.session import Session
from mcpwarden.gateway.sse import (
    SessionStream,
    channel_source,
    final_message,
    serve_stream,
    unsolicited_source,
)
from mcpwarden.gateway.stateless_pool import STATELESS_MARK
from mcpwarden.gateway.streams import EventStream
from mcpwarden.store.base import StoreUnavailable
from mcpwarden.types import ANONYMOUS, Principal

if TYPE_CHECKING:
    pass

SESSION_HEADER = "mcp-session-id"
VERSION_HEADER = "mcp-protocol-version"
# Revisions that still allow JSON-RPC batches in one POST.
BATCH_REVISIONS = frozenset({"2025-03-26"})

Authenticator = Callable[[Request], Awaitable[Principal]]


async def anonymous(_request: Request) -> Principal:
    return ANONYMOUS


class McpEndpoint:
    def __init__(self, core: GatewayCore, authenticate: Authenticator = anonymous) -> None:
        self.core = core
        self.authenticate = authenticate
        # 2026-07-28 requests: the same endpoints, told apart by their version header (`era`).
        self.stateless = StatelessFront(core)

    async def __call__(self, request: Request) -> Response:
        name = request.path_params.get("name")
        endpoint = f"/servers/{name}/mcp" if name else "/mcp"
        try:
            # Authentication comes first, so an anonymous caller cannot even probe which
            # upstream names exist.
            principal = await self.authenticate(request)
            if name is not None and name not in self.core.config.upstreams:
                return error_response(404, "endpoint.unknown_upstream", f"no upstream named {name!r}")
            if request.method == "POST":
                return await self._post(request, principal, name, endpoint)
            if (
                request.method in ("GET", "DELETE")
                and era_of(request.headers.get(VERSION_HEADER)) == "stateless"
            ):
                raise HttpRejection(
                    405,
                    "stateless.method",
                    f"{request.method} has no meaning in protocol revision 2026-07-28 "
                    "(no sessions; subscriptions/listen replaces the GET stream)",
                    headers={"allow": "POST"},
                )
            if request.method == "GET":
                return await self._get(request, principal, endpoint)
            if request.method == "DELETE":
                return await self._delete(request, principal, endpoint)
            raise HttpRejection(
                405,
                "http.method",
                f"method {request.method} not allowed",
                headers={"allow": "GET, POST, DELETE"},
            )
        except HttpRejection as exc:
            self.core.audit_event(
                "rejected",
                reason=exc.reason,
                status=exc.status,
                message=str(exc),
                session=request.headers.get(SESSION_HEADER),
                details={"path": endpoint, "http_method": request.method},
            )
            return error_response(
                exc.status,
                exc.reason,
                str(exc),
                headers=exc.headers,
                id_=exc.id_,
                code=exc.code,
                data=exc.data,
            )

    # ------------------------------------------------------------------ helpers

    def _check_version(self, request: Request, session: Session | None) -> str | None:
        version = request.headers.get(VERSION_HEADER)
        if version is None:
            return None
        if version not in SUPPORTED_PROTOCOL_VERSIONS:
            era_of(version)  # raises the revision's unsupported-version error
            raise HttpRejection(
                400,
                "era.mismatch",
                f"MCP-Protocol-Version {version!r} belongs to no session (stateless revision)",
            )
        # A supported value that differs from the negotiated one is normalized, not refused:
        # upstreams always get the version their own session negotiated, and some clients
        # (the conformance suite among them) send a fixed header on every request.
        return version

    def _session(
        self, request: Request, principal: Principal, endpoint: str, request_id: Any = None
    ) -> Session:
        sid = request.headers.get(SESSION_HEADER)
        if not sid:
            raise HttpRejection(400, "session.missing", "missing Mcp-Session-Id header", id_=request_id)
        try:
            session = self.core.find_session(sid, principal)
        except StoreUnavailable as exc:
            # Revocations cannot be checked: fail closed rather than serve a revoked session.
            raise HttpRejection(503, "store.unavailable", f"session state unavailable: {exc}") from exc
        if session is None:
            raise self._unknown_session(sid)
        # A stateless client's gateway-side session is never reachable by a session id.
        if session.state.get("_endpoint") != endpoint or session.state.get(STATELESS_MARK):
            raise HttpRejection(404, "session.unknown", "unknown or expired session", id_=request_id)
        session.reauthenticated(principal, getattr(request.state, "bearer", None))
        return session

    def _unknown_session(self, sid: str) -> HttpRejection:
        from mcpwarden.gateway.replication import unknown_session

        return unknown_session(self.core.registry, self.core.replica_id, sid)

    # ------------------------------------------------------------------ POST

    async def _post(
        self, request: Request, principal: Principal, name: str | None, endpoint: str
    ) -> Response:
        ctype = request.headers.get("content-type", "")
        if ctype.split(";", 1)[0].strip().lower() != "application/json":
            raise HttpRejection(415, "transport.content_type", "Content-Type must be application/json")
        accept = request.headers.get("accept", "")
        if not ("*/*" in accept or ("application/json" in accept and "text/event-stream" in accept)):
            raise HttpRejection(
                406, "transport.accept", "Accept must list both application/json and text/event-stream"
            )
        body = await read_body(request, self.core.config)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            self.core.audit_event("rejected", reason="jsonrpc.parse_error", status=400, message=str(exc))
            return error_response(
                400, "jsonrpc.parse_error", f"body is not valid JSON: {exc}", code=jsonrpc.PARSE_ERROR
            )
        problem = jsonrpc.problem(payload)
        if problem is not None:
            raise HttpRejection(400, problem[0], problem[1], id_=jsonrpc.request_id_of(payload))
        request_id = jsonrpc.request_id_of(payload)
        try:
            version = request.headers.get(VERSION_HEADER)
            if era_of(version, request_id=request_id) == "stateless":
                assert version is not None
                return await self.stateless.post(
                    request, principal, name, endpoint, payload, len(body), version
                )
            return await self._post_handshake(request, principal, name, endpoint, payload, len(body))
        except HttpRejection as exc:
            # Whatever refused it, a request that had an id gets its answer under that id.
            if exc.id_ is None:
                exc.id_ = request_id
            raise

    async def _post_handshake(
        self, request: Request, principal: Principal, name: str | None, endpoint: str, payload: Any, size: int
    ) -> Response:
        request_id = jsonrpc.request_id_of(payload)
        sid = request.headers.get(SESSION_HEADER)
        if isinstance(payload, list):
            return await self._post_batch(request, principal, endpoint, payload, size)
        kind = jsonrpc.classify(payload)
        if kind == "invalid":
            raise HttpRejection(400, "jsonrpc.invalid", invalid_reason(payload), id_=request_id)
        if kind == "request":
            check_rate(self.core.admission, principal)
        if kind == "request" and payload["method"] == "initialize":
            if sid:
                raise HttpRejection(
                    400,
                    "session.initialize_with_id",
                    "initialize must not carry an Mcp-Session-Id (the gateway mints session ids)",
                )
            self._check_version(request, None)
            return await self._initialize(
                principal, name, endpoint, payload, size, getattr(request.state, "bearer", None)
            )
        session = self._session(request, principal, endpoint, request_id)
        self._check_version(request, session)
        if kind == "notification":
            await session.handle_notification(payload)
            return Response(status_code=202)
        if kind == "response":
            await session.handle_response(payload)
            return Response(status_code=202)
        channel = session.handle_request(payload, size)
        return await self._reply(session, channel)

    async def _initialize(
        self,
        principal: Principal,
        name: str | None,
        endpoint: str,
        msg: dict[str, Any],
        size: int,
        subject_token: str | None,
    ) -> Response:
        if self.core.draining:
            raise HttpRejection(
                503, "gateway.draining", "this replica is shutting down; start the session on another one"
            )
        upstreams = [name] if name else list(self.core.config.upstreams)
        try:
            self.core.quotas.admit_session(principal.key)
        except QuotaExceeded as exc:
            raise HttpRejection(exc.status, exc.reason, str(exc)) from None
        if len(self.core.sessions) >= self.core.config.sessions.max_sessions:
            await self.core.expire_sessions()
            if len(self.core.sessions) >= self.core.config.sessions.max_sessions:
                raise HttpRejection(503, "session.limit", "too many sessions")
        session = self.core.create_session(principal, upstreams, aggregate=name is None)
        session.state["_endpoint"] = endpoint
        session.subject_token = subject_token
        try:
            self.core.register_session(session, endpoint)
        except StoreUnavailable as exc:
            await self.core.end_session(session, "store unavailable")
            raise HttpRejection(503, "store.unavailable", f"cannot record the new session: {exc}") from exc
        channel = session.handle_request(msg, size)
        final, data = await final_message(channel)
        if "result" not in final:
            await self.core.end_session(session, "initialize failed")
            return Response(data, media_type="application/json")
        return Response(data, media_type="application/json", headers={SESSION_HEADER: session.id})

    async def _reply(self, session: Session, channel: Channel) -> Response:
        msg, data = await channel.queue.get()
        if data is not None:
            if not data:  # cancelled by the client: nothing more to say
                return Response(status_code=202)
            return Response(data, media_type="application/json")
        # More than the response is coming: an SSE stream the client can resume.
        stream = session.streams.open(channel_source(channel), "request")
        stream.append(orjson.dumps(msg))
        return self._stream_response(session, stream, 0)

    def _stream_response(
        self,
        session: Session,
        stream: EventStream,
        after: int,
        until: float | None = None,
        *,
        release: Callable[[], None] | None = None,
    ) -> Response:
        """An SSE response; `release` gives a GET stream's quota slot back however it ends."""
        retry_ms = self.core.config.sessions.sse_retry_ms
        body = serve_stream(session, stream, after, retry_ms=retry_ms, until=until)
        headers = {"cache-control": "no-cache"}
        if release is not None:
            return SessionStream(body, release, media_type="text/event-stream", headers=headers)
        return StreamingResponse(body, media_type="text/event-stream", headers=headers)

    async def _post_batch(
        self, request: Request, principal: Principal, endpoint: str, batch: list[Any], size: int
    ) -> Response:
        session = self._session(request, principal, endpoint) if request.headers.get(SESSION_HEADER) else None
        self._check_version(request, session)
        # Only the revision the session negotiated decides: a version header on a later
        # request cannot unlock batches in a session that agreed on a revision without them.
        if session is None or session.protocol_version not in BATCH_REVISIONS or not batch:
            raise HttpRejection(
                400, "jsonrpc.batch", "JSON-RPC batches are not allowed in this protocol revision"
            )
        limit = self.core.config.sessions.max_batch
        if len(batch) > limit:
            raise HttpRejection(
                400,
                "jsonrpc.batch_too_large",
                f"a batch of {len(batch)} messages exceeds the limit of {limit}",
            )
        channels: list[Channel] = []
        for item in batch:
            problem = jsonrpc.problem(item)
            if problem is not None:
                raise HttpRejection(400, problem[0], problem[1], id_=jsonrpc.request_id_of(item))
            kind = jsonrpc.classify(item)
            if kind == "request" and item["method"] != "initialize":
                channels.append(session.handle_request(item, size))
            elif kind == "notification":
                await session.handle_notification(item)
            elif kind == "response":
                await session.handle_response(item)
            else:
                raise HttpRejection(400, "jsonrpc.invalid", "batch contains an invalid message")
        if not channels:
            return Response(status_code=202)
        finals = [await final_message(ch) for ch in channels]
        return Response(orjson.dumps([m for m, d in finals if d]), media_type="application/json")

    # ------------------------------------------------------------------ GET / DELETE

    async def _get(self, request: Request, principal: Principal, endpoint: str) -> Response:
        if "text/event-stream" not in request.headers.get("accept", ""):
            raise HttpRejection(406, "transport.accept", "GET needs Accept: text/event-stream")
        session = self._session(request, principal, endpoint)
        self._check_version(request, session)
        until = _credential_expiry(request)
        last_event_id = request.headers.get("last-event-id")
        found = None
        if last_event_id is not None:
            found = session.streams.find(last_event_id)
            if found is None:
                raise HttpRejection(
                    404, "stream.unknown", "Last-Event-ID names no stream this session can resume"
                )
        quotas = self.core.quotas
        try:
            quotas.claim_stream(principal.key, session.id)
        except QuotaExceeded as exc:
            # Closing the connection too: a refused stream must not keep its descriptor.
            raise HttpRejection(exc.status, exc.reason, str(exc), headers={"connection": "close"}) from None

        def release() -> None:
            quotas.release_stream(principal.key, session.id)

        if found is None:
            stream = session.streams.open(unsolicited_source(session), "get")
            return self._stream_response(session, stream, 0, until, release=release)
        stream, after = found
        if stream.lost_after(after):
            self.core.audit_event(
                "alert",
                session=session.id,
                principal=principal.key,
                reason="stream.replay_gap",
                message=f"events after {last_event_id} were no longer kept; the client misses some",
            )
        return self._stream_response(session, stream, after, until, release=release)

    async def _delete(self, request: Request, principal: Principal, endpoint: str) -> Response:
        session = self._session(request, principal, endpoint)
        await self.core.end_session(session)
        return Response(status_code=200)


def _credential_expiry(request: Request) -> float | None:
    verified = getattr(request.state, "verified", None)
    expires_at = getattr(verified, "expires_at", None)
    return float(expires_at) if isinstance(expires_at, int | float) else None
