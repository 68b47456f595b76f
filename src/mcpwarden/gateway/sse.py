"""Server-Sent Event streams towards clients: one per POSTed request, and GET streams.

A request's stream carries what relates to that request (progress, server requests) and
ends with its response; a GET stream carries the session's other messages. Both are
`EventStream`s (see `streams`): every event has an id, and a client of revision 2025-11-25
or later gets a priming event (an id and a `retry:` hint, no data) first, so it can resume
the stream with `Last-Event-ID` after a dropped connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from mcpwarden.gateway.channel import Channel
from mcpwarden.gateway.session import Session
from mcpwarden.gateway.streams import EventStream, Keepalive, Source

KEEPALIVE_S = 15.0
# The first revision whose clients expect priming events (older ones may choke on empty data).
PRIMING_SINCE = "2025-11-25"


async def final_message(channel: Channel) -> tuple[dict[str, Any], bytes]:
    """The request's response (and its serialized form), skipping what came before it."""
    while True:
        msg, data = await channel.queue.get()
        if data is not None:
            return msg, data


def channel_source(channel: Channel) -> Source:
    """A request's messages, ending with its response (or nothing, when it was cancelled)."""

    async def pull(_timeout: float | None) -> tuple[bytes, bool] | None:
        msg, data = await channel.queue.get()
        if data is None:
            return orjson.dumps(msg), False
        return (data, True) if data else None

    return pull


def unsolicited_source(session: Session) -> Source:
    """The session's messages that belong to no request; None once the session closes."""

    async def pull(timeout: float | None) -> tuple[bytes, bool] | None:
        async with asyncio.timeout(timeout):
            msg = await session.unsolicited.get()
        return None if msg is None else (orjson.dumps(msg), False)

    return pull


def sse_event(data: bytes, event_id: str | None = None) -> bytes:
    """One serialized JSON-RPC message as an SSE `message` event."""
    head = b"id: " + event_id.encode("ascii") + b"\n" if event_id is not None else b""
    return head + b"event: message\ndata: " + data + b"\n\n"


def opening(session: Session, stream: EventStream, after: int, retry_ms: int) -> bytes:
    """What a stream connection starts with: a comment on GET streams (so the client sees the
    stream is up at once), then a priming event for clients that can resume."""
    head = b": stream open\n\n" if stream.kind == "get" else b""
    version = session.protocol_version
    if version is None or version < PRIMING_SINCE:
        return head
    return head + f"id: {stream.event_id(after)}\nretry: {retry_ms}\ndata: \n\n".encode("ascii")


async def serve_stream(
    session: Session, stream: EventStream, after: int, *, retry_ms: int, until: float | None = None
) -> AsyncIterator[bytes]:
    """One connection's view of a stream, from after event `after` on.

    A GET stream also ends when the token it was opened with expires, so a long-lived
    stream never outlives its authentication (the client reconnects with a fresh token
    and `Last-Event-ID`, and misses nothing).
    """

    def wait() -> float | None:
        if stream.kind != "get":
            return None
        return KEEPALIVE_S if until is None else max(0.0, min(KEEPALIVE_S, until - time.time()))

    stream.attach()
    if stream.kind == "get":
        session.stream_opened()
    try:
        first = opening(session, stream, after, retry_ms)
        if first:
            yield first
        async for item in stream.follow(after, wait):
            if until is not None and time.time() >= until:
                return
            if isinstance(item, Keepalive):
                yield b": keepalive\n\n"
                continue
            seq, data = item
            yield sse_event(data, stream.event_id(seq))
    finally:
        stream.detach()
        if stream.kind == "get":
            session.stream_closed()


class SessionStream(StreamingResponse):
    """A GET stream that gives its quota slot back however it ends, even if its body was never
    started (an async generator that never ran has no `finally` to run)."""

    def __init__(self, content: AsyncIterator[bytes], release: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()
