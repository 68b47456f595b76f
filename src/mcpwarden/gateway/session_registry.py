"""Live sessions in the shared SQLite file, so `mcpwarden sessions` can see and revoke them.

Why the store and not an admin HTTP endpoint: the store file is already how the CLI talks
to a running gateway (pin approvals), it needs no listening socket, no extra secret and no
second authentication scheme, and access to it is governed by ordinary file permissions.
The gateway notices a revocation on the next request of any session through
`PRAGMA data_version`, which changes only when another connection committed: one pragma
per request, a query only when something changed.

Session ids never touch the disk: rows are keyed by a SHA-256 handle of the id, so reading
the file does not let anyone resume a session (which would need the owner's token anyway).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpwarden.store.wal_watch import WalWatch
from mcpwarden.types import Principal

SCHEMA = """
CREATE TABLE IF NOT EXISTS gateway_sessions (
    handle TEXT PRIMARY KEY,
    principal TEXT NOT NULL,
    subject TEXT NOT NULL,
    issuer TEXT,
    client_id TEXT,
    endpoint TEXT NOT NULL,
    upstreams TEXT NOT NULL,
    created_at TEXT NOT NULL,
    gateway_pid INTEGER NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT
)
"""

MIN_HANDLE_PREFIX = 8


def new_session_id() -> str:
    """256 random bits, URL-safe base64: visible ASCII only, as the spec requires.

    An id never starts with `-`: operators paste ids into `mcpwarden sessions revoke ID`,
    where a leading dash reads as an option. Drawing again when the first character is `-`
    keeps every remaining id equally likely (43 characters, 63 possible first ones).
    """
    while True:
        sid = secrets.token_urlsafe(32)
        if not sid.startswith("-"):
            return sid


def session_handle(session_id: str) -> str:
    """The on-disk name of a session: a hash, so the file never holds a usable id."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True, slots=True)
class SessionRow:
    handle: str
    principal: str
    subject: str
    issuer: str | None
    client_id: str | None
    endpoint: str
    upstreams: str
    created_at: str
    gateway_pid: int
    revoked_at: str | None
    revoked_by: str | None
    # The owning replica's id (PostgreSQL registry); None for the single-gateway SQLite file.
    replica: str | None = None

    def to_dict(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"replica": self.replica} if self.replica is not None else {}
        return {
            **extra,
            "handle": self.handle,
            "subject": self.subject,
            "issuer": self.issuer,
            "client_id": self.client_id,
            "endpoint": self.endpoint,
            "upstreams": self.upstreams.split(",") if self.upstreams else [],
            "created_at": self.created_at,
            "gateway_pid": self.gateway_pid,
            "revoked_at": self.revoked_at,
            "revoked_by": self.revoked_by,
        }


_COLUMNS = (
    "handle, principal, subject, issuer, client_id, endpoint, upstreams, created_at, gateway_pid, "
    "revoked_at, revoked_by"
)


class SessionRegistry:
    """One connection to the sessions table; used by the gateway and by the CLI."""

    def __init__(self, path: str | Path, *, pid: int | None = None) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.pid = os.getpid() if pid is None else pid
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(SCHEMA)
        self._seen_version = self._data_version()
        self._wal = WalWatch(self.path)
        self._wal_head: bytes | None = None

    def close(self) -> None:
        with self._lock:
            self._wal.close()
            self._conn.close()

    # -- what replicas add (see gateway.replica_registry); one process has nothing to share --

    def heartbeat(self) -> None:
        """Presence is the process itself (`gateway_pid`): nothing to refresh."""

    def retire(self) -> None:
        """Rows of a stopped gateway are dropped by `forget_dead_gateways`."""

    def owner_of(self, session_id: str) -> tuple[str, str | None, bool] | None:
        """One gateway owns every session it knows: there is never another owner to name."""
        return None

    def ping(self) -> bool:
        try:
            with self._lock:
                self._conn.execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def _data_version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    # -- gateway side ---------------------------------------------------------------------

    def forget_dead_gateways(self) -> int:
        """Drop rows left by gateways that are no longer running (crash, kill -9)."""
        with self._lock:
            pids = [
                int(r[0]) for r in self._conn.execute("SELECT DISTINCT gateway_pid FROM gateway_sessions")
            ]
            dead = [p for p in pids if p == self.pid or not _pid_alive(p)]
            for pid in dead:
                self._conn.execute("DELETE FROM gateway_sessions WHERE gateway_pid = ?", (pid,))
            self._seen_version = self._data_version()
            return len(dead)

    def add(self, session_id: str, principal: Principal, endpoint: str, upstreams: list[str]) -> None:
        with self._lock:
            self._conn.execute(
                f"INSERT OR REPLACE INTO gateway_sessions ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,NULL,NULL)",
                (
                    session_handle(session_id),
                    principal.key,
                    principal.subject,
                    principal.issuer,
                    principal.client_id,
                    endpoint,
                    ",".join(upstreams),
                    _now(),
                    self.pid,
                ),
            )

    def remove(self, session_id: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM gateway_sessions WHERE handle = ?", (session_handle(session_id),))

    def revoked_since_last_poll(self) -> list[str]:
        """Handles of this gateway's sessions revoked by another process since the last call.

        Costs one pragma when nothing changed, which is what makes it cheap per request.
        """
        with self._lock:
            head = self._wal.header()  # nothing committed anywhere: no pragma either (see wal_watch)
            if head is not None and head == self._wal_head:
                return []
            version = self._data_version()
            self._wal_head = head
            if version == self._seen_version:
                return []
            self._seen_version = version
            rows = self._conn.execute(
                "SELECT handle FROM gateway_sessions WHERE gateway_pid = ? AND revoked_at IS NOT NULL",
                (self.pid,),
            ).fetchall()
            return [str(r[0]) for r in rows]

    # -- CLI side -------------------------------------------------------------------------

    def rows(self, *, include_stale: bool = False) -> list[SessionRow]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM gateway_sessions ORDER BY created_at, handle"
            ).fetchall()
        out = [SessionRow(*r) for r in rows]
        if include_stale:
            return out
        alive: dict[int, bool] = {}
        return [r for r in out if alive.setdefault(r.gateway_pid, _pid_alive(r.gateway_pid))]

    def revoke(
        self, *, by: str, handle: str | None = None, subject: str | None = None, issuer: str | None = None
    ) -> list[SessionRow]:
        """Mark matching sessions revoked; the owning gateway closes them on its next request.

        `handle` is a session id, a full handle, or a unique handle prefix (at least
        `MIN_HANDLE_PREFIX` characters). Returns the rows that were revoked.
        """
        rows = [r for r in self.rows() if r.revoked_at is None]
        if handle is not None:
            wanted = handle.lower()
            hashed = session_handle(handle)
            exact = [r for r in rows if r.handle == hashed or r.handle == wanted]
            if exact:
                rows = exact
            elif len(wanted) >= MIN_HANDLE_PREFIX:
                rows = [r for r in rows if r.handle.startswith(wanted)]
                if len(rows) > 1:
                    raise ValueError(f"handle prefix {handle!r} matches {len(rows)} sessions")
            else:
                rows = []
        if subject is not None:
            rows = [r for r in rows if r.subject == subject]
        if issuer is not None:
            rows = [r for r in rows if r.issuer == issuer]
        if not rows:
            return []
        when = _now()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for r in rows:
                    self._conn.execute(
                        "UPDATE gateway_sessions SET revoked_at = ?, revoked_by = ? WHERE handle = ?",
                        (when, by, r.handle),
                    )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return rows
