"""Resumable SSE streams towards clients: numbered events, kept for replay after a reconnect.

Every SSE stream the gateway opens to a client (the stream of a POSTed request, or a GET
stream) is an `EventStream` with an unguessable id, and each message on it is an event
with id `<stream>:<n>`. The newest events are kept (bounded by count and bytes), and a stream
nobody has read for longer than the replay window is forgotten (bounded in time). A client
whose connection dropped reconnects with GET and `Last-Event-ID` and gets every later event
of that stream, then the live rest, so a long call survives a reconnect.

A stream is pulled from its source (the request's channel, or the session's unsolicited
queue) only by a connected reader, under a lock, and each message is numbered and kept
before it is written: a message in flight when a connection dropped is replayed, not lost.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable

# Pulls the next serialized message of a stream, waiting at most `timeout` seconds (None:
# no limit; TimeoutError when it passes): (data, is_last), or None when the source ended
# without a message (request cancelled, session closed).
Source = Callable[[float | None], Awaitable[tuple[bytes, bool] | None]]

# Ended or unread streams a session keeps for resumption beyond the ones being read.
RETAINED_STREAMS = 8
# How long a stream nobody reads stays resumable, unless the session is configured otherwise.
REPLAY_WINDOW_S = 300.0

Clock = Callable[[], float]


class Keepalive:
    """Yielded by `EventStream.follow` when nothing arrived within the keepalive interval."""


KEEPALIVE = Keepalive()


class EventStream:
    def __init__(
        self,
        stream_id: str,
        source: Source,
        *,
        kind: str,
        max_events: int,
        max_bytes: int,
        clock: Clock = time.monotonic,
    ) -> None:
        self.id = stream_id
        self.kind = kind  # "request" (a POST's stream) or "get"
        self._source = source
        self._max_events = max_events
        self._max_bytes = max_bytes
        self._events: deque[tuple[int, bytes]] = deque()
        self._bytes = 0
        self._last = 0
        self.ended = False
        self.readers = 0
        self._clock = clock
        # When the last reader left (or the stream was opened): the start of its replay window.
        self.unread_since = clock()
        self._pull = asyncio.Lock()

    def attach(self) -> None:
        """A connection starts reading the stream."""
        self.readers += 1

    def detach(self) -> None:
        """A connection stopped reading; the replay window starts again for a reconnect."""
        self.readers -= 1
        if self.readers == 0:
            self.unread_since = self._clock()

    def expired(self, window_s: float) -> bool:
        """Whether nobody has read the stream for longer than `window_s`: no longer resumable."""
        return self.readers == 0 and self._clock() - self.unread_since > window_s

    def event_id(self, seq: int) -> str:
        return f"{self.id}:{seq}"

    def append(self, data: bytes, last: bool = False) -> int:
        """Number and keep one message; the oldest give way beyond the bounds (not the newest)."""
        self._last += 1
        self._events.append((self._last, data))
        self._bytes += len(data)
        while len(self._events) > 1 and (
            len(self._events) > self._max_events or self._bytes > self._max_bytes
        ):
            self._bytes -= len(self._events.popleft()[1])
        if last:
            self.ended = True
        return self._last

    def lost_after(self, seq: int) -> bool:
        """Whether events after `seq` were evicted before anyone could replay them."""
        return bool(self._events) and self._events[0][0] > seq + 1

    async def follow(
        self, after: int, keepalive: Callable[[], float | None] = lambda: None
    ) -> AsyncIterator[tuple[int, bytes] | Keepalive]:
        """The events after `after`: kept ones first, then live ones, until the stream ends.

        `keepalive()` gives the longest wait for the next live message (None: no limit).
        """
        seq = after
        while True:
            for n, data in list(self._events):
                if n > seq:
                    seq = n
                    yield n, data
            if self.ended:
                return
            timed_out = False
            async with self._pull:
                if self._last <= seq:  # else another reader pulled meanwhile: serve it above
                    try:
                        item = await self._source(keepalive())
                    except TimeoutError:
                        timed_out = True
                    else:
                        if item is None:
                            self.ended = True
                        else:
                            self.append(*item)
            if timed_out:
                yield KEEPALIVE


class StreamRegistry:
    """One session's SSE streams, by id, for resumption; bounded in number, size and time."""

    def __init__(
        self,
        *,
        max_events: int,
        max_bytes: int,
        retained: int = RETAINED_STREAMS,
        window_s: float = REPLAY_WINDOW_S,
        clock: Clock = time.monotonic,
    ) -> None:
        self._max_events = max_events
        self._max_bytes = max_bytes
        self._retained = retained
        self._window_s = window_s
        self._clock = clock
        self._ids = itertools.count(1)
        self._streams: OrderedDict[str, EventStream] = OrderedDict()

    def __len__(self) -> int:
        return len(self._streams)

    def open(self, source: Source, kind: str) -> EventStream:
        # Unguessable and unique beyond the session: an event id from another session (or a
        # forged one) names nothing here, so it can never replay someone else's stream.
        stream_id = f"{next(self._ids)}-{secrets.token_hex(8)}"
        stream = EventStream(
            stream_id,
            source,
            kind=kind,
            max_events=self._max_events,
            max_bytes=self._max_bytes,
            clock=self._clock,
        )
        self._streams[stream.id] = stream
        self._trim()
        return stream

    def _trim(self) -> None:
        """Forget streams unread for longer than the window, then the oldest streams nobody reads
        beyond `retained` (ended ones first)."""
        for stream in [s for s in self._streams.values() if s.expired(self._window_s)]:
            del self._streams[stream.id]
        idle = [s for s in self._streams.values() if s.readers == 0]
        excess = len(idle) - self._retained
        if excess <= 0:
            return
        for stream in sorted(idle, key=lambda s: not s.ended)[:excess]:
            del self._streams[stream.id]

    def find(self, last_event_id: str) -> tuple[EventStream, int] | None:
        """The stream an event id belongs to and the event's number, if still kept (and not past
        its replay window)."""
        self._trim()
        stream_id, sep, seq = last_event_id.strip().rpartition(":")
        if not sep or not seq.isdigit() or len(seq) > 18:
            return None
        stream = self._streams.get(stream_id)
        return (stream, int(seq)) if stream is not None else None
