"""Per-session counters for `mcpwarden admin sessions`, kept from the audit stream.

Memory is bounded by the live sessions: a session's counters go when its `session.end`
(or `session.killed` / `session.revoked`) record passes. Counters are also published to a
small table of the store every second, so the CLI, a separate process, can show them.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS session_counters (
    handle TEXT PRIMARY KEY,
    requests INTEGER NOT NULL,
    denials INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    bytes_in INTEGER NOT NULL,
    bytes_out INTEGER NOT NULL,
    last_request TEXT
)
"""
_ENDED = frozenset({"session.end", "session.killed", "session.revoked"})
MAX_SESSIONS = 100_000


@dataclass(slots=True)
class Counts:
    requests: int = 0
    denials: int = 0
    errors: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    last_request: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "denials": self.denials,
            "errors": self.errors,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "last_request": self.last_request,
        }


def handle_of(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionCounters:
    """An audit observer: counts requests, denials, errors and bytes per live session."""

    def __init__(self) -> None:
        self.by_session: dict[str, Counts] = {}
        self._dirty: set[str] = set()
        self._gone: set[str] = set()
        self._lock = threading.Lock()

    def observe(self, record: dict[str, Any]) -> None:
        sid = record.get("session")
        if not isinstance(sid, str):
            return
        event = record.get("event")
        with self._lock:
            if event in _ENDED:
                if self.by_session.pop(sid, None) is not None:
                    self._gone.add(sid)
                    self._dirty.discard(sid)
                return
            if event != "request":
                return
            counts = self.by_session.get(sid)
            if counts is None:
                if len(self.by_session) >= MAX_SESSIONS:
                    return
                counts = self.by_session[sid] = Counts()
            counts.requests += 1
            decision = record.get("decision")
            if decision == "deny":
                counts.denials += 1
            elif decision == "error":
                counts.errors += 1
            counts.bytes_in += int(record.get("request_bytes") or 0)
            counts.bytes_out += int(record.get("response_bytes") or 0)
            counts.last_request = record.get("time")
            self._dirty.add(sid)

    def get(self, session_id: str) -> Counts:
        return self.by_session.get(session_id) or Counts()

    def take_changes(self, *, everything: bool = False) -> tuple[list[tuple[str, Counts]], list[str]]:
        """(handle, counts) changed and handles ended since the last call, for a publisher.

        `everything`: every live session's counts, for a publisher that starts afresh.
        """
        with self._lock:
            sids = self.by_session if everything else self._dirty
            rows = [(handle_of(sid), self.by_session[sid]) for sid in sids if sid in self.by_session]
            gone = [handle_of(sid) for sid in self._gone]
            self._dirty.clear()
            self._gone.clear()
        return rows, gone

    def publish(self, conn: sqlite3.Connection) -> None:
        """Write changed counters to the store (the gateway's sweeper calls this each second)."""
        rows, gone = self.take_changes()
        if not rows and not gone:
            return
        conn.execute("BEGIN")
        try:
            for handle, c in rows:
                conn.execute(
                    "INSERT OR REPLACE INTO session_counters VALUES (?,?,?,?,?,?,?)",
                    (handle, c.requests, c.denials, c.errors, c.bytes_in, c.bytes_out, c.last_request),
                )
            for handle in gone:
                conn.execute("DELETE FROM session_counters WHERE handle = ?", (handle,))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def open_counters_table(path: str | Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    # Counters are a convenience for the CLI: no fsync per commit, so the gateway's own
    # writes to the store (session rows, pins) never queue behind one.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(SCHEMA)
    return conn


def read_counters(path: str | Path) -> dict[str, dict[str, Any]]:
    """Counters by session handle, for the CLI."""
    conn = open_counters_table(path)
    try:
        rows = conn.execute("SELECT * FROM session_counters").fetchall()
    finally:
        conn.close()
    keys = ("requests", "denials", "errors", "bytes_in", "bytes_out", "last_request")
    return {r[0]: dict(zip(keys, r[1:], strict=True)) for r in rows}
