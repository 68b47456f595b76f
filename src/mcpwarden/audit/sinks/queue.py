"""The part every network sink shares: a bounded queue drained by one background thread.

The gateway hands a record to a sink on its request path, so handing it over must never
wait on the network: `offer` appends to a bounded in-memory queue and returns at once.
When the queue is full (the destination is down or slow), the record is dropped for this
sink and a counter rises; the JSONL file, written before any sink sees the record, still
has it. One thread per sink sends batches, retries a failed batch with exponential
backoff (bounded attempts), and drains what it can within a deadline at close.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

log = logging.getLogger("mcpwarden.audit.sinks")

Record = dict[str, Any]


class SinkStats:
    """Counters one sink exposes (metrics read them; tests assert on them)."""

    __slots__ = ("dropped", "failed_batches", "sent")

    def __init__(self) -> None:
        self.sent = 0
        self.dropped = 0
        self.failed_batches = 0


class QueuedSink:
    """Base class: subclasses implement `send(batch)`, raising on failure.

    Bounds: `max_queue` records waiting, `batch_size` per send, `max_attempts` tries per
    batch with backoff from `retry_initial_s` doubling up to `retry_max_s`.
    """

    kind = "queued"

    def __init__(
        self,
        name: str,
        *,
        max_queue: int = 10_000,
        batch_size: int = 100,
        flush_interval_s: float = 0.2,
        max_attempts: int = 5,
        retry_initial_s: float = 0.2,
        retry_max_s: float = 10.0,
        close_timeout_s: float = 5.0,
    ) -> None:
        if max_queue < 1 or batch_size < 1 or max_attempts < 1:
            raise ValueError("max_queue, batch_size and max_attempts must be at least 1")
        self.name = name
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.max_attempts = max_attempts
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self.close_timeout_s = close_timeout_s
        self.stats = SinkStats()
        self._queue: deque[Record] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._deadline: float | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()  # wakes a backoff wait early, at close only

    # -- producer side (any thread, never blocks on I/O) ----------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"audit-sink:{self.name}", daemon=True)
            self._thread.start()

    def offer(self, record: Record) -> bool:
        """Queue one (already redacted) record; False when it was dropped because the queue is full."""
        with self._cond:
            if self._closing or len(self._queue) >= self.max_queue:
                self.stats.dropped += 1
                return False
            self._queue.append(record)
            if len(self._queue) >= self.batch_size:
                self._cond.notify()
        return True

    @property
    def depth(self) -> int:
        """Records waiting to be sent."""
        return len(self._queue)

    def close(self) -> None:
        """Send what can be sent within `close_timeout_s`; count the rest as dropped."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            self._deadline = time.monotonic() + self.close_timeout_s
            self._cond.notify()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.close_timeout_s + 1.0)
        with self._cond:
            self.stats.dropped += len(self._queue)
            self._queue.clear()
        self.shutdown()

    # -- subclass hooks -------------------------------------------------------------------

    def send(self, batch: list[Record]) -> None:
        """Deliver one batch or raise. Runs on the sink's own thread only."""
        raise NotImplementedError

    def shutdown(self) -> None:
        """Release sockets and clients after the last send."""

    def is_final(self, exc: Exception) -> bool:
        """True when retrying cannot help (the destination refused the batch as such)."""
        return False

    # -- the sender thread ----------------------------------------------------------------

    def _take(self) -> list[Record] | None:
        with self._cond:
            if not self._queue and not self._closing:
                self._cond.wait(self.flush_interval_s)
            if not self._queue:
                return None if self._closing else []
            n = min(self.batch_size, len(self._queue))
            return [self._queue.popleft() for _ in range(n)]

    def _past_deadline(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            if batch:
                self._deliver(batch)
            if self._past_deadline():
                return

    def _deliver(self, batch: list[Record]) -> None:
        delay = self.retry_initial_s
        for attempt in range(1, self.max_attempts + 1):
            try:
                self.send(batch)
            except Exception as exc:  # any failure of the destination: retry, then drop
                self.stats.failed_batches += 1
                if attempt == self.max_attempts or self._past_deadline() or self.is_final(exc):
                    log.warning(
                        "audit sink %s: dropping %d records after %d attempts: %s",
                        self.name,
                        len(batch),
                        attempt,
                        exc,
                    )
                    self.stats.dropped += len(batch)
                    return
                # Woken early only by close; then the deadline decides whether to go on.
                self._stop.wait(delay)
                delay = min(delay * 2, self.retry_max_s)
            else:
                self.stats.sent += len(batch)
                return
