"""Serve a request for another worker's session by relaying it to that worker.

A 2025-11-25 session lives in the worker that minted it: its upstream sessions, stdio
children, in-flight calls and SSE streams are that process's memory. All workers accept on
one socket, so a client's next TCP connection (a second POST, the GET stream, the DELETE)
may reach any of them. The session id ends in `.w<i>` (`workers.identity`); a worker that
gets a request for worker i's session relays it, byte for byte and streaming, over worker
i's private unix socket, and the owner answers as if the client had reached it directly
(it authenticates, checks and audits the request itself; nothing is trusted more for
having come through the socket, which lives in a 0700 directory of the supervisor's).
2026-07-28 requests carry no session and are served where they land, except a retry whose
`requestState` names a call held by a sibling (an input-required call parked mid-way): its
handle ends in `.w<i>` too, and the retry is relayed the same way.

Everything held here is bounded: the request body by the gateway's body limits (size and
time), the number of relayed exchanges at once (503 past it), the connect and write times,
and the time between two chunks of an answer (longer than any upstream call may take and
than the GET stream's keepalive interval). A client that goes away ends its relayed stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcpwarden.gateway.http_errors import HttpRejection, error_response
from mcpwarden.gateway.request_body import read_body
from mcpwarden.gateway.request_state import unverified_handle
from mcpwarden.workers.identity import WorkerSlot, owner_of

if TYPE_CHECKING:
    from mcpwarden.config import GatewayConfig

# Hop-by-hop headers (RFC 9110 7.6.1): about one connection, never relayed.
_HOP = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade", b"te", b"trailer"}
)
MAX_RELAYED = 256  # exchanges relayed at once by one worker
CONNECT_S = 5.0
WRITE_S = 30.0


class WorkerForwarder:
    """ASGI middleware: requests for a sibling worker's session go to it, the rest to `app`."""

    def __init__(
        self,
        app: ASGIApp,
        slot: WorkerSlot,
        config: GatewayConfig,
        *,
        idle_s: float,
        on_reject: Callable[[str, int], None] = lambda _reason, _status: None,
    ) -> None:
        self.app = app
        self.on_reject = on_reject
        self.slot = slot
        self.config = config
        self.idle_s = idle_s
        self.relayed = 0
        self._clients: dict[int, httpx.AsyncClient] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tagged, owner = self._owner(scope)
        body: bytes | None = None
        if not tagged and self._may_resume(scope):
            body = await self._read(scope, receive, send)
            if body is None:
                return  # refused (too slow, too large): answered and audited
            owner = _held_by(body, self.slot)
            if owner is None:
                await self.app(scope, _replay(body, receive), send)
                return
        if owner is None:
            await self.app(scope, receive, send)
            return
        if self.relayed >= MAX_RELAYED:
            busy = error_response(
                503, "worker.relay_busy", "too many requests relayed between workers; retry",
                headers={"retry-after": "1"},
            )  # fmt: skip
            await busy(scope, receive, send)
            return
        self.relayed += 1
        try:
            await self._relay(owner, scope, receive, send, body)
        finally:
            self.relayed -= 1

    def _owner(self, scope: Scope) -> tuple[bool, int | None]:
        """Whether the request names a session, and the sibling that holds it (None: ours, or none)."""
        for key, value in scope["headers"]:
            if key == b"mcp-session-id":
                return True, _sibling(owner_of(value.decode("latin-1")), self.slot)
        return False, None

    def _may_resume(self, scope: Scope) -> bool:
        """A sessionless POST with a declared, allowed length may be a 2026-07-28 retry carrying
        a `requestState`, whose held call lives in one worker: peek at it. A body without a
        declared length (chunked) or over the limit goes to the app untouched, which reads or
        refuses it as always."""
        if scope["method"] != "POST":
            return False
        for key, value in scope["headers"]:
            if key == b"content-length":
                return value.isdigit() and int(value) <= self.config.security.max_body_bytes
        return False

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The body within the gateway's limits, or None after answering the refusal."""
        try:
            return await read_body(Request(scope, receive), self.config)
        except HttpRejection as exc:
            self.on_reject(exc.reason, exc.status)
            refused = error_response(exc.status, exc.reason, str(exc), headers=exc.headers)
            await refused(scope, receive, send)
            return None

    def _client(self, owner: int) -> httpx.AsyncClient:
        client = self._clients.get(owner)
        if client is None:
            transport = httpx.AsyncHTTPTransport(uds=str(self.slot.socket_path(owner)))
            client = httpx.AsyncClient(
                transport=transport,
                timeout=httpx.Timeout(connect=CONNECT_S, read=self.idle_s, write=WRITE_S, pool=CONNECT_S),
                limits=httpx.Limits(max_connections=MAX_RELAYED, max_keepalive_connections=16),
            )
            self._clients[owner] = client
        return client

    async def _relay(
        self, owner: int, scope: Scope, receive: Receive, send: Send, body: bytes | None
    ) -> None:
        if body is None:
            body = await self._read(scope, receive, send)
            if body is None:
                return
        path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string") or b""
        url = "http://worker" + path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
        headers = [(k, v) for k, v in scope["headers"] if k not in _HOP and k != b"content-length"]
        client = self._client(owner)
        request = client.build_request(scope["method"], url, headers=headers, content=body)
        try:
            response = await client.send(request, stream=True)
        except (httpx.ConnectError, FileNotFoundError, ConnectionRefusedError):
            # The owner is gone (died, restarting): its sessions went with it. 404 is what the
            # specification tells a client to answer with a new `initialize`.
            gone = error_response(
                404, "session.owner_gone",
                f"the worker that held this session (w{owner}) has stopped; start a new session",
            )  # fmt: skip
            await gone(scope, receive, send)
            return
        except httpx.TimeoutException:
            late = error_response(504, "worker.relay_timeout", f"worker w{owner} did not answer in time")
            await late(scope, receive, send)
            return
        except (httpx.TransportError, OSError) as exc:
            # Connected, but the exchange broke (the owner died mid-request, a reset): the
            # request may or may not have reached it, so it is not sent again.
            broken = error_response(
                502, "worker.relay_failed", f"relay to worker w{owner} failed ({type(exc).__name__})"
            )
            await broken(scope, receive, send)
            return
        try:
            await self._stream_back(response, receive, send, self.slot.index)
        finally:
            await response.aclose()

    @staticmethod
    async def _stream_back(response: httpx.Response, receive: Receive, send: Send, me: int) -> None:
        raw = [(k, v) for k, v in response.headers.raw if k.lower() not in _HOP]
        # Says the answer came through a sibling (which one): for operators and tests.
        raw.append((b"mcpwarden-relayed-by", f"w{me}".encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": raw})
        relay = asyncio.ensure_future(_copy(response, send))
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait({relay, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (relay, gone):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if relay.done() and not relay.cancelled() and relay.exception() is None:
            with contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def aclose(self) -> None:
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                await client.aclose()
        self._clients.clear()


def _sibling(index: int | None, slot: WorkerSlot) -> int | None:
    return index if index is not None and index != slot.index and index < slot.count else None


def _held_by(body: bytes, slot: WorkerSlot) -> int | None:
    """The sibling holding the call a retry's `requestState` names (None: ours, or no retry)."""
    if b'"requestState"' not in body:
        return None
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    params = message.get("params") if isinstance(message, dict) else None
    state = params.get("requestState") if isinstance(params, dict) else None
    handle = unverified_handle(state)
    return _sibling(owner_of(handle), slot) if handle is not None else None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that yields the body already read, then whatever the client sends next."""
    pending = [body]

    async def replay() -> Message:
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": False}
        return await receive()

    return replay


async def _copy(response: httpx.Response, send: Send) -> None:
    async for chunk in response.aiter_raw():
        if chunk:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def _disconnected(receive: Receive) -> None:
    """Return once the client has gone (its body was read already: only disconnects remain)."""
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return
