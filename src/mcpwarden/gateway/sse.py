"""Server-Sent Event streams towards clients: one per POSTed request, and the GET stream.

A request's stream carries what relates to that request (progress, server requests)
and ends with its response; the session's GET stream carries everything else.
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

KEEPALIVE_S = 15.0


async def final_message(channel: Channel) -> tuple[dict[str, Any], bytes]:
    """The request's response (and its serialized form), skipping what came before it."""
    while True:
        msg, data = await channel.queue.get()
        if data is not None:
            return msg, data


def sse_event(data: bytes) -> bytes:
    """One serialized JSON-RPC message as an SSE `message` event."""
    return b"event: message\ndata: " + data + b"\n\n"


async def request_stream(first: dict[str, Any], channel: Channel) -> AsyncIterator[bytes]:
    """A POSTed request's messages as SSE, from `first` up to and including its response."""
    yield sse_event(orjson.dumps(first))
    while True:
        msg, data = await channel.queue.get()
        if data is None:
            yield sse_event(orjson.dumps(msg))
            continue
        if data:
            yield sse_event(data)
        return


async def session_stream(session: Session, until: float | None = None) -> AsyncIterator[bytes]:
    """The session's server-initiated messages; ends when the token it was opened with expires,
    so a long-lived stream never outlives its authentication (the client reconnects with a
    fresh token). The caller counts the stream open and closed (see `SessionStream`)."""
    yield b": stream open\n\n"
    while not session.closed:
        wait = KEEPALIVE_S
        if until is not None:
            left = until - time.time()
            if left <= 0:
                break
            wait = min(wait, left)
        try:
            msg = await asyncio.wait_for(session.unsolicited.get(), wait)
        except TimeoutError:
            if until is None or time.time() < until:
                yield b": keepalive\n\n"
            continue
        if msg is None:
            break
        yield sse_event(orjson.dumps(msg))


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
