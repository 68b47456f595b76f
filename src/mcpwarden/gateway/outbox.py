"""Bounded buffers towards clients: what happens when a client reads slower than upstreams write.

Each client stream (a request's SSE stream, a session's GET stream, the wrapper's stdout) has
an `Outbox`. Messages are serialized when queued, so the buffer is counted in bytes as well as
in messages, and every outbox of a session also counts against one session budget. When a
message would not fit, the policy is, in order:

1. drop progress notifications (`notifications/progress`): the newest one arriving, then the
   oldest queued ones; progress is advisory and a later one supersedes an earlier one;
2. if it still does not fit, close the slow consumer: its queue is dropped, nothing more is
   accepted, and the owner is told; the owner may queue one last message (a request's
   JSON-RPC error) before the stream ends. A request is cancelled upstream; a GET stream ends
   and the client may reconnect. When the session budget is what overflows, the consumer
   closed is the session's slowest one (most bytes queued), not whoever happened to push.

A request's final response is always accepted (one message over the limit), so a call that
finishes is never lost to a burst of notifications before it. Each outbox reports once when
it first drops progress and once when it closes, for the audit.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

# Per stream, and per session across all its streams.
STREAM_MAX_MESSAGES = 512
STREAM_MAX_BYTES = 8 * 1024 * 1024
SESSION_MAX_BYTES = 32 * 1024 * 1024

PROGRESS = "notifications/progress"


@dataclass(slots=True)
class Item:
    """One queued message: the dict (for callers that need it) and its serialized bytes."""

    msg: dict[str, Any]
    data: bytes
    final: bool = False

    @property
    def droppable(self) -> bool:
        return not self.final and self.msg.get("method") == PROGRESS


class SessionBudget:
    """Bytes queued across all of one session's live outboxes.

    Computed from the outboxes themselves (held weakly), so a stream that is abandoned
    mid-way, whose client went away with messages still queued, stops counting as soon as
    it is dropped: the budget can never fill up with bytes nobody holds any more.
    """

    def __init__(self, max_bytes: int = SESSION_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.outboxes: weakref.WeakSet[Outbox] = weakref.WeakSet()

    @property
    def used(self) -> int:
        return sum(o.queued_bytes for o in self.outboxes)

    def slowest(self) -> Outbox | None:
        live = [o for o in self.outboxes if not o.closed]
        return max(live, key=lambda o: o.queued_bytes, default=None)


# (what happened: "progress_dropped" | "closed", details) for the owner to audit and act on;
# on "closed" it may return one last message to queue before the end.
OverflowHandler = Callable[[str, dict[str, Any]], "dict[str, Any] | None"]


class Outbox:
    """A bounded queue of messages for one client stream (see the module docstring)."""

    def __init__(
        self,
        budget: SessionBudget | None = None,
        *,
        max_messages: int = STREAM_MAX_MESSAGES,
        max_bytes: int = STREAM_MAX_BYTES,
        on_overflow: OverflowHandler | None = None,
    ) -> None:
        self._items: deque[Item | None] = deque()
        self._bytes = 0
        self._budget = budget or SessionBudget()
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self._on_overflow = on_overflow
        self._waiters: list[asyncio.Future[None]] = []
        self.dropped_progress = 0
        self.peak_messages = 0
        self.closed = False
        self._budget.outboxes.add(self)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def queued_bytes(self) -> int:
        return self._bytes

    def put(self, msg: dict[str, Any], *, final: bool = False, data: bytes | None = None) -> bool:
        """Queue one message; False when it was dropped (by policy, or the outbox is closed)."""
        if self.closed:
            return False
        item = Item(msg, data if data is not None else orjson.dumps(msg), final)
        if not final and not self._fits(item):
            if item.droppable:
                self._drop_progress(1)
                return False
            self._evict_progress(item)
            if not self._fits(item) and self._stream_fits(item):
                # The session budget is what overflows: close its slowest consumer.
                slowest = self._budget.slowest()
                if slowest is not None and slowest is not self and slowest.queued_bytes > self._bytes:
                    slowest.overflow(len(item.data))
            if not self._fits(item):
                self.overflow(len(item.data))
                return False
        self._append(item)
        return True

    def end(self) -> None:
        """No more messages: the reader gets None after what is queued."""
        if not self.closed:
            self.closed = True
            self._items.append(None)
            self._wake()

    async def get(self) -> Item | None:
        """The next message, or None once the outbox has ended (for every reader after that)."""
        while not self._items:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                self._waiters.remove(waiter)
        item = self._items.popleft()
        if item is not None:
            self._bytes -= len(item.data)
        else:
            self._items.appendleft(None)
        return item

    def overflow(self, refused_bytes: int) -> None:
        """Close this slow consumer: drop its queue, let the owner add a last word, then end."""
        if self.closed:
            return
        self.closed = True
        last = self._report("closed", refused_bytes=refused_bytes)  # numbers as they were
        self._drop_queued()
        if last is not None:
            self._append(Item(last, orjson.dumps(last), final=True))
        self._items.append(None)
        self._wake()

    def _drop_queued(self) -> None:
        self._items.clear()
        self._bytes = 0

    # ------------------------------------------------------------------ policy

    def _stream_fits(self, item: Item) -> bool:
        return len(self._items) < self.max_messages and self._bytes + len(item.data) <= self.max_bytes

    def _fits(self, item: Item) -> bool:
        return self._stream_fits(item) and self._budget.used + len(item.data) <= self._budget.max_bytes

    def _evict_progress(self, incoming: Item) -> None:
        """Drop queued progress, oldest first, until `incoming` fits or none is left."""
        evicted = 0
        while not self._fits(incoming):
            victim = next((i for i in self._items if i is not None and i.droppable), None)
            if victim is None:
                break
            self._items.remove(victim)
            self._bytes -= len(victim.data)
            evicted += 1
        if evicted:
            self._drop_progress(evicted)

    def _drop_progress(self, n: int) -> None:
        first = self.dropped_progress == 0
        self.dropped_progress += n
        if first:
            self._report("progress_dropped")

    def _report(self, what: str, **extra: Any) -> dict[str, Any] | None:
        if self._on_overflow is None:
            return None
        return self._on_overflow(
            what,
            {
                "queued_messages": len(self._items),
                "queued_bytes": self._bytes,
                "max_messages": self.max_messages,
                "max_bytes": self.max_bytes,
                "session_bytes": self._budget.used,
                "dropped_progress": self.dropped_progress,
                **extra,
            },
        )

    def _append(self, item: Item) -> None:
        self._items.append(item)
        self._bytes += len(item.data)
        self.peak_messages = max(self.peak_messages, len(self._items))
        self._wake()

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)


class ChannelQueue:
    """A request stream's outbox behind the `(msg, data)` queue interface its readers use.

    `data` is None for messages before the final response and the serialized response for
    the final one; `({}, b"")` means the stream ended without one (cancelled, or closed as a
    slow consumer without a last word).
    """

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def put_nowait(self, item: tuple[dict[str, Any], bytes | None]) -> None:
        msg, data = item
        if data is None:
            self.outbox.put(msg)
            return
        if data:
            self.outbox.put(msg, final=True, data=data)
        self.outbox.end()

    async def get(self) -> tuple[dict[str, Any], bytes | None]:
        item = await self.outbox.get()
        if item is None:
            return {}, b""
        return item.msg, item.data if item.final else None


class SessionQueue:
    """A session's server-initiated messages for its GET streams (or the wrapper's stdout).

    `put_nowait(None)` ends every reader (the session is closing). When the outbox is closed
    as a slow consumer, messages are dropped until a reader comes back for more: that reader
    gets the end of its stream (so the client reconnects) and a fresh outbox takes over for
    the next stream. With `resume` (the wrapper's stdout, which cannot reconnect) a fresh
    outbox takes over at once and the reader simply carries on. Either way what was dropped
    is gone (see the module docstring).
    """

    def __init__(self, make: Callable[[], Outbox], *, resume: bool = False) -> None:
        self._make = make
        self._resume = resume
        self.outbox = make()
        self._ending = False

    def put_nowait(self, msg: dict[str, Any] | None) -> None:
        if msg is None:
            self._ending = True
            self.outbox.end()
            return
        if self.outbox.closed:
            if self._ending or not self._resume:
                return  # the slow stream is being closed; nothing is queued behind it
            self.outbox = self._make()
        self.outbox.put(msg)

    async def get(self) -> dict[str, Any] | None:
        while True:
            outbox = self.outbox
            item = await outbox.get()
            if item is not None:
                return item.msg
            if self._ending:
                return None
            if outbox is self.outbox:
                self.outbox = self._make()
            if not self._resume:
                return None
