"""Token buckets in the SQLite store file: one limit for every worker of `serve --workers N`.

The in-memory buckets belong to one process, so N workers would allow N times each limit.
With the embedded store the workers already share one SQLite file, so their buckets live
there: each acquire is one short `BEGIN IMMEDIATE` transaction (read, refill, take, write),
which SQLite serializes across processes, so no take is lost. The clock is the wall clock
(`time.time`), the one all processes on the host agree on. This costs a write transaction
per limited call, which is why it is used only when there are several workers and a
`limits:` section; a single process keeps the in-memory buckets.

Memory (rows) is bounded like the Redis buckets': a bucket whose refill would be complete
is the same as no row, so such rows are deleted now and then. The store unavailable
(locked past the timeout, disk error): `acquire` raises `StoreUnavailable`, and the call is
refused, as with Redis down.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from mcpwarden.admin.ratelimit import Rate
from mcpwarden.store.base import StoreUnavailable

SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_buckets (
    key TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    at REAL NOT NULL,
    full_at REAL NOT NULL
)
"""
MAX_KEY_CHARS = 200
PRUNE_EVERY = 1000  # acquires between two deletions of refilled buckets
TIMEOUT_S = 5.0


class SQLiteTokenBuckets:
    """A `RateLimiter` shared by the processes that open the same SQLite file."""

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._conn = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=TIMEOUT_S
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(SCHEMA)
        self._lock = threading.Lock()
        self._since_prune = 0

    def acquire(self, key: str, limit: Rate, cost: float = 1.0) -> float:
        if len(key) > MAX_KEY_CHARS:
            key = "h:" + hashlib.sha256(key.encode()).hexdigest()
        with self._lock:
            try:
                return self._take(key, limit, cost)
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"store unavailable (rate limits cannot be checked): {exc}") from exc

    def _take(self, key: str, limit: Rate, cost: float) -> float:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            now = self.clock()
            row = conn.execute("SELECT tokens, at FROM rate_buckets WHERE key = ?", (key,)).fetchone()
            tokens, at = (limit.burst, now) if row is None else (float(row[0]), float(row[1]))
            tokens = min(limit.burst, tokens + max(0.0, now - at) * limit.rate)
            wait = 0.0
            if tokens >= cost:
                tokens -= cost
            else:
                wait = (cost - tokens) / limit.rate
            full_at = now + (limit.burst - tokens) / limit.rate
            conn.execute(
                "INSERT INTO rate_buckets (key, tokens, at, full_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET tokens = excluded.tokens, at = excluded.at, "
                "full_at = excluded.full_at",
                (key, tokens, now, full_at),
            )
            self._since_prune += 1
            if self._since_prune >= PRUNE_EVERY:
                self._since_prune = 0
                conn.execute("DELETE FROM rate_buckets WHERE full_at < ?", (now,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return wait

    def close(self) -> None:
        self._conn.close()
