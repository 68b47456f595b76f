"""The kill switch: servers, tools, principals and sessions disabled by an operator.

The state lives in a table of the gateway's SQLite store, so `mcpwarden admin disable`
(another process), the admin HTTP API and the gateway all read and write the same rows.
The gateway keeps the set in memory and re-reads it only when the file changed
(`PRAGMA data_version`, one pragma per message), so a change applies to the very next
message of every live session, without a restart, and costs nothing when nothing changed.

Names: `server` is an upstream name; `tool` is a tool name on any upstream, or
`UPSTREAM/TOOL` for one upstream's tool; `principal` is a subject or a full principal key
(`issuer|subject|client`); `session` is a session handle (or a prefix of at least 8
characters, as `mcpwarden sessions` shows them) or a session id.
"""

from __future__ import annotations

import builtins
import datetime as _dt
import hashlib
import sqlite3
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mcpwarden.store.wal_watch import WalWatch

Kind = Literal["server", "tool", "principal", "session"]
KINDS: tuple[Kind, ...] = ("server", "tool", "principal", "session")
MIN_SESSION_PREFIX = 8
MAX_NAME_CHARS = 512

SCHEMA = """
CREATE TABLE IF NOT EXISTS kill_switch (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    disabled_at TEXT NOT NULL,
    disabled_by TEXT NOT NULL,
    reason TEXT,
    PRIMARY KEY (kind, name)
)
"""


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Disabled:
    kind: Kind
    name: str
    disabled_at: str
    disabled_by: str
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "disabled_at": self.disabled_at,
            "disabled_by": self.disabled_by,
            "reason": self.reason,
        }


def normalize(kind: str, name: str) -> tuple[Kind, str]:
    """Validate a (kind, name) pair; a session id is stored as its handle, never in clear."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise ValueError(f"name must be 1 to {MAX_NAME_CHARS} characters")
    if kind == "session":
        lowered = name.lower()
        is_hex = all(c in "0123456789abcdef" for c in lowered)
        if is_hex and len(lowered) >= MIN_SESSION_PREFIX:
            name = lowered  # a handle or handle prefix
        else:
            name = hashlib.sha256(name.encode()).hexdigest()  # a session id
    return kind, name


def blocking_entry(
    e: dict[tuple[str, str], Disabled],
    *,
    principal_subject: str,
    principal_key: str,
    session_handle: str,
    upstream: str | None,
    tool: str | None,
) -> Disabled | None:
    """The entry of `e` that stops a message with these attributes, if any.

    One matcher for every backend (SQLite file, Redis), so a disable means the same thing
    whichever store holds it.
    """
    if not e:
        return None
    for candidate in (("principal", principal_subject), ("principal", principal_key)):
        if candidate in e:
            return e[candidate]
    for (kind, name), entry in e.items():
        if kind == "session" and session_handle.startswith(name):
            return entry
    if upstream is not None:
        if ("server", upstream) in e:
            return e[("server", upstream)]
        if tool is not None:
            return e.get(("tool", tool)) or e.get(("tool", f"{upstream}/{tool}"))
    return None


class KillSwitchStore(ABC):
    """The kill switch as admission, the admin API and the CLI see it, whatever holds it.

    The current set is cached in `_entries`, so the per-message check is a dict lookup;
    `refresh` re-reads it when the backing store (the SQLite table, the Redis hash) changed.
    """

    _entries: dict[tuple[str, str], Disabled]

    @abstractmethod
    def refresh(self) -> tuple[list[Disabled], list[Disabled]]:
        """Re-read the set if another process changed it; returns (added, removed)."""

    @abstractmethod
    def disable(self, kind: str, name: str, *, by: str, reason: str | None = None) -> Disabled: ...

    @abstractmethod
    def enable(self, kind: str, name: str) -> bool:
        """Lift a disable; False when nothing matched."""

    @abstractmethod
    def list(self) -> list[Disabled]:
        """The set as stored now (not the cache): for the CLI and the admin API."""

    @abstractmethod
    def close(self) -> None: ...

    @property
    def empty(self) -> bool:
        return not self._entries

    def entries(self) -> builtins.list[Disabled]:
        return sorted(self._entries.values(), key=lambda d: (d.kind, d.name))

    def blocks(
        self,
        *,
        principal_subject: str,
        principal_key: str,
        session_handle: str,
        upstream: str | None,
        tool: str | None,
    ) -> Disabled | None:
        """The entry that stops this message, if any."""
        return blocking_entry(
            self._entries,
            principal_subject=principal_subject,
            principal_key=principal_key,
            session_handle=session_handle,
            upstream=upstream,
            tool=tool,
        )


class KillSwitch(KillSwitchStore):
    """One connection to the kill-switch table, with the current set cached in memory."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(SCHEMA)
        self._entries: dict[tuple[str, str], Disabled] = {}
        self._seen_version = -1
        self._wal = WalWatch(self.path)
        self._wal_head: bytes | None = None
        self.refresh()

    def close(self) -> None:
        with self._lock:
            self._wal.close()
            self._conn.close()

    # -- reading (the gateway, per message) -----------------------------------------------

    def refresh(self) -> tuple[list[Disabled], list[Disabled]]:
        """Re-read the table if another connection changed it; returns (added, removed)."""
        with self._lock:
            head = self._wal.header()  # nothing committed anywhere: no pragma either (see wal_watch)
            if head is not None and head == self._wal_head:
                return [], []
            version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
            self._wal_head = head
            if version == self._seen_version:
                return [], []
            self._seen_version = version
            rows = self._conn.execute(
                "SELECT kind, name, disabled_at, disabled_by, reason FROM kill_switch"
            ).fetchall()
            fresh = {(r[0], r[1]): Disabled(*r) for r in rows}
            added = [d for k, d in fresh.items() if k not in self._entries]
            removed = [d for k, d in self._entries.items() if k not in fresh]
            self._entries = fresh
            return added, removed

    # -- writing (the CLI and the admin API) ----------------------------------------------

    def disable(self, kind: str, name: str, *, by: str, reason: str | None = None) -> Disabled:
        k, n = normalize(kind, name)
        entry = Disabled(k, n, _now(), by, reason)
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO kill_switch (kind, name, disabled_at, disabled_by, reason) "
                "VALUES (?,?,?,?,?)",
                (k, n, entry.disabled_at, by, reason),
            )
            self._entries[(k, n)] = entry
        return entry

    def enable(self, kind: str, name: str) -> bool:
        """Lift a disable; False when nothing matched."""
        k, n = normalize(kind, name)
        with self._lock:
            cur = self._conn.execute("DELETE FROM kill_switch WHERE kind = ? AND name = ?", (k, n))
            self._entries.pop((k, n), None)
            return cur.rowcount > 0

    def list(self) -> list[Disabled]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT kind, name, disabled_at, disabled_by, reason FROM kill_switch ORDER BY kind, name"
            ).fetchall()
        return [Disabled(*r) for r in rows]
