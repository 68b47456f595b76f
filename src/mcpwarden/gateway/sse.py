"""Server-Sent Event streams towards clients: one per POSTed request, and the GET stream.

A request's stream carries what relates to that request (progress, server requests)
and ends with its response; the session's GET stream carries everything else.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson

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
    fresh token)."""
    session.stream_opened()
    try:
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
    finally:
        session.stream_closed()
