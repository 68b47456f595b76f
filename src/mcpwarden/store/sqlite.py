"""SQLite store (stdlib `sqlite3`, WAL mode) for a single gateway or the CLI beside it.

The CLI and a running gateway open the same file; WAL lets the CLI write while the gateway
reads. `revision()` combines `PRAGMA data_version` (changes when *another* connection
committed) with a per-connection write counter (our own commits), so a guard can tell in
one pragma whether anything it cached is stale.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from mcpwarden.store.base import Pin, PinStatus, Store, StoreError
from mcpwarden.store.integrity import META_SCHEMA, StoreState, bump, check_before_write, read_state, set_meta
from mcpwarden.store.wal_watch import WalWatch

# Each entry migrates from version i to i+1. Other features append their own steps.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE pins (
        upstream TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        hash TEXT NOT NULL,
        definition TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('approved', 'quarantined', 'rejected')),
        approved_by TEXT,
        approved_at TEXT,
        first_seen TEXT NOT NULL,
        pending_hash TEXT,
        pending_definition TEXT,
        pending_diff TEXT,
        pending_since TEXT,
        PRIMARY KEY (upstream, kind, name)
    );
    """,
    META_SCHEMA,
]

_COLUMNS = (
    "upstream, kind, name, hash, definition, status, approved_by, approved_at, first_seen, "
    "pending_hash, pending_definition, pending_diff, pending_since"
)


def utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class SQLiteStore(Store):
    def __init__(self, path: str | Path, *, clock: Callable[[], str] = utc_now) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.RLock()
        self._writes = 0
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._migrate()
        self._wal = WalWatch(self.path)
        self._wal_seen: tuple[bytes | None, tuple[int, int]] = (None, (-1, -1))
        self._alarm_cache: tuple[tuple[int, ...], str | None] | None = None

    # -- plumbing -------------------------------------------------------------------------

    @contextmanager
    def _tx(self, *, pins: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction; one that touches `pins` also moves the integrity meta on."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                if pins:
                    check_before_write(self._conn)
                yield self._conn
                if pins:
                    bump(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            self._writes += 1

    def _migrate(self) -> None:
        with self._tx(pins=False) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            version = row[0] if row else 0
            if row is None:
                conn.execute("INSERT INTO schema_version (version) VALUES (0)")
            for step in MIGRATIONS[version:]:
                for statement in step.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            if version < len(MIGRATIONS):
                conn.execute("UPDATE schema_version SET version = ?", (len(MIGRATIONS),))

    def schema_version(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT version FROM schema_version").fetchone()[0])

    def revision(self) -> tuple[int, ...]:
        with self._lock:
            # No commit anywhere since the last look (the WAL-index header is the same) and none
            # of ours: the last answer stands, without asking SQLite (see `wal_watch`).
            head = self._wal.header()
            if head is not None and head == self._wal_seen[0] and self._writes == self._wal_seen[1][1]:
                return self._wal_seen[1]
            data_version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
            revision = (data_version, self._writes)
            self._wal_seen = (head, revision)
            return revision

    def close(self) -> None:
        with self._lock:
            self._wal.close()
            self._conn.close()

    # -- integrity (see store/integrity.py) -------------------------------------------------

    def integrity_state(self) -> StoreState:
        """Meta and recomputed pin digest from one consistent snapshot."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                return read_state(self._conn)
            finally:
                self._conn.execute("COMMIT")

    def bind_audit(self, chain: str, seq: int, hash_: str, *, pins_digest: str | None = None) -> None:
        """Remember the audit record that recorded this store's state (and, for a store from
        before digests, take `pins_digest` as its baseline)."""
        with self._tx(pins=False) as conn:
            set_meta(conn, audit_chain=chain, audit_seq=str(seq), audit_hash=hash_)
            if pins_digest is not None:
                set_meta(conn, pins_digest=pins_digest)

    def raise_alarm(self, reason: str) -> None:
        """Make pin decisions fail closed until `rebind` (kept across restarts)."""
        with self._tx(pins=False) as conn:
            set_meta(conn, alarm=reason[:2000])

    def alarm(self) -> str | None:
        """Why pin decisions fail closed, or None; one pragma per call when nothing changed."""
        revision = self.revision()
        cached = self._alarm_cache
        if cached is not None and cached[0] == revision:
            return cached[1]
        with self._lock:
            row = self._conn.execute("SELECT value FROM store_meta WHERE key = 'alarm'").fetchone()
        value = str(row[0]) if row else None
        self._alarm_cache = (revision, value)
        return value

    def rebind(self, by: str) -> None:
        """An operator accepts the store as it is now: the alarm is cleared, the current pins
        become the baseline, and the gateway records who did it at its next check."""
        with self._tx(pins=False) as conn:
            set_meta(conn, alarm=None, rebind_by=by, rebind_at=utc_now())
            bump(conn)

    def clear_rebind(self) -> None:
        with self._tx(pins=False) as conn:
            set_meta(conn, rebind_by=None, rebind_at=None, alarm=None)

    # -- pins -----------------------------------------------------------------------------

    @staticmethod
    def _row_to_pin(row: tuple[Any, ...]) -> Pin:
        return Pin(
            upstream=row[0],
            kind=row[1],
            name=row[2],
            hash=row[3],
            definition=json.loads(row[4]),
            status=cast(PinStatus, row[5]),
            approved_by=row[6],
            approved_at=row[7],
            first_seen=row[8],
            pending_hash=row[9],
            pending_definition=json.loads(row[10]) if row[10] is not None else None,
            pending_diff=row[11],
            pending_since=row[12],
        )

    def _get(self, conn: sqlite3.Connection, upstream: str, kind: str, name: str) -> Pin | None:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM pins WHERE upstream = ? AND kind = ? AND name = ?",
            (upstream, kind, name),
        ).fetchone()
        return self._row_to_pin(row) if row else None

    def get_pin(self, upstream: str, kind: str, name: str) -> Pin | None:
        with self._lock:
            return self._get(self._conn, upstream, kind, name)

    def list_pins(self, upstream: str | None = None, *, kind: str | None = None) -> list[Pin]:
        clauses: list[str] = []
        args: list[str] = []
        if upstream is not None:
            clauses.append("upstream = ?")
            args.append(upstream)
        if kind is not None:
            clauses.append("kind = ?")
            args.append(kind)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM pins{where} ORDER BY upstream, kind, name", args
            ).fetchall()
        return [self._row_to_pin(r) for r in rows]

    def put_pin(self, pin: Pin) -> None:
        with self._tx() as conn:
            self._write_pin(conn, pin)

    @staticmethod
    def _write_pin(conn: sqlite3.Connection, pin: Pin) -> None:
        conn.execute(
            f"INSERT OR REPLACE INTO pins ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                pin.upstream,
                pin.kind,
                pin.name,
                pin.hash,
                json.dumps(pin.definition, ensure_ascii=False, sort_keys=True),
                pin.status,
                pin.approved_by,
                pin.approved_at,
                pin.first_seen,
                pin.pending_hash,
                json.dumps(pin.pending_definition, ensure_ascii=False, sort_keys=True)
                if pin.pending_definition is not None
                else None,
                pin.pending_diff,
                pin.pending_since,
            ),
        )

    def new_pin(
        self,
        upstream: str,
        kind: str,
        name: str,
        definition: dict[str, Any],
        hash_: str,
        *,
        status: PinStatus,
        approved_by: str | None = None,
    ) -> Pin:
        """Create the row for a definition seen for the first time (no-op if one exists)."""
        with self._tx() as conn:
            existing = self._get(conn, upstream, kind, name)
            if existing is not None:
                return existing
            now = self._clock()
            pin = Pin(
                upstream=upstream,
                kind=kind,
                name=name,
                hash=hash_,
                status=status,
                definition=definition,
                approved_by=approved_by if status == "approved" else None,
                approved_at=now if status == "approved" else None,
                first_seen=now,
            )
            self._write_pin(conn, pin)
            return pin

    def record_pending(
        self, upstream: str, kind: str, name: str, definition: dict[str, Any], hash_: str, diff: str
    ) -> bool:
        with self._lock:
            current = self._get(self._conn, upstream, kind, name)
            if current is None:
                raise StoreError(f"no pin for {upstream}/{kind}/{name}")
            if current.pending_hash == hash_ or (current.hash == hash_ and current.pending_hash is None):
                return False
            with self._tx() as conn:
                conn.execute(
                    "UPDATE pins SET pending_hash = ?, pending_definition = ?, pending_diff = ?, "
                    "pending_since = ?, status = 'quarantined' WHERE upstream = ? AND kind = ? AND name = ?",
                    (
                        hash_,
                        json.dumps(definition, ensure_ascii=False, sort_keys=True),
                        diff,
                        self._clock(),
                        upstream,
                        kind,
                        name,
                    ),
                )
            return True

    def set_status(self, upstream: str, kind: str, name: str, status: PinStatus, by: str | None) -> None:
        """Change only the status (used by `locked` mode to refuse a change without review)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE pins SET status = ? WHERE upstream = ? AND kind = ? AND name = ?",
                (status, upstream, kind, name),
            )

    def approve(
        self, upstream: str, kind: str, name: str, by: str, *, expected_hash: str | None = None
    ) -> Pin:
        with self._tx() as conn:
            pin = self._get(conn, upstream, kind, name)
            if pin is None:
                raise StoreError(f"no pin for {upstream}/{kind}/{name}")
            if expected_hash is not None and not pin.candidate_hash.startswith(expected_hash.lower()):
                raise StoreError(
                    f"{upstream}/{kind}/{name}: the waiting definition is {pin.candidate_hash[:12]}, "
                    f"not {expected_hash}; review it again"
                )
            now = self._clock()
            if pin.pending_hash is not None and pin.pending_definition is not None:
                conn.execute(
                    "UPDATE pins SET hash = pending_hash, definition = pending_definition, "
                    "pending_hash = NULL, pending_definition = NULL, pending_diff = NULL, "
                    "pending_since = NULL, "
                    "status = 'approved', approved_by = ?, approved_at = ? "
                    "WHERE upstream = ? AND kind = ? AND name = ?",
                    (by, now, upstream, kind, name),
                )
            else:
                conn.execute(
                    "UPDATE pins SET status = 'approved', approved_by = ?, approved_at = ? "
                    "WHERE upstream = ? AND kind = ? AND name = ?",
                    (by, now, upstream, kind, name),
                )
            result = self._get(conn, upstream, kind, name)
            assert result is not None
            return result

    def reject(self, upstream: str, kind: str, name: str, by: str) -> Pin:
        with self._tx() as conn:
            pin = self._get(conn, upstream, kind, name)
            if pin is None:
                raise StoreError(f"no pin for {upstream}/{kind}/{name}")
            conn.execute(
                "UPDATE pins SET status = 'rejected' WHERE upstream = ? AND kind = ? AND name = ?",
                (upstream, kind, name),
            )
            result = self._get(conn, upstream, kind, name)
            assert result is not None
            return result

    def delete_pin(self, upstream: str, kind: str, name: str) -> bool:
        with self._tx() as conn:
            cur = conn.execute(
                "DELETE FROM pins WHERE upstream = ? AND kind = ? AND name = ?", (upstream, kind, name)
            )
            return cur.rowcount > 0
