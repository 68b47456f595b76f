"""PostgreSQL store (psycopg 3 + a small connection pool) for several gateway replicas.

Same contract as `SQLiteStore`; what differs is how a reader learns that something
changed. `revision()` is called per request, so it must not cost a query: with a connected
`ChangeFeed` it is the feed's `pins` generation plus our own write counter, and every write
publishes a change message after it commits. Without a feed (or while Redis is away) it
reads the `store_revision` counter that every write transaction bumps: one indexed query,
slower but never stale. A database that cannot be reached raises `StoreUnavailable`, which
the gateway turns into a clear error: nothing is decided on state it could not read.

The schema is managed by yoyo migrations (`store/migrations/postgres/*.sql`), applied at
open under yoyo's lock so replicas starting together do not race.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any, cast
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg
import redis
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from mcpwarden.store.base import Pin, PinStatus, Store, StoreError, StoreUnavailable
from mcpwarden.store.changes import ChangeFeed
from mcpwarden.store.sqlite import utc_now

log = logging.getLogger("mcpwarden.store.postgres")

_COLUMNS = (
    "upstream, kind, name, hash, definition, status, approved_by, approved_at, first_seen, "
    "pending_hash, pending_definition, pending_diff, pending_since"
)
POOL_MAX = 8


def _yoyo_url(url: str, schema: str) -> str:
    """yoyo's spelling of a psycopg 3 URL, with the schema as its `schema` argument."""
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode({"schema": schema})) if q)
    return urlunsplit(("postgresql+psycopg", parts.netloc, parts.path, query, ""))


def apply_migrations(url: str, schema: str) -> None:
    """Create `schema` if needed and bring it to the newest migration.

    Replicas often start together against a fresh schema, and PostgreSQL's `CREATE SCHEMA IF
    NOT EXISTS` is not safe under concurrency: of two that run at once, one can fail on the
    catalog's unique index. The creation therefore runs under a transaction-level advisory
    lock named after the schema, so the others wait and then find it there."""
    from yoyo import get_backend, read_migrations

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"mcpwarden-schema:{schema}",))
        conn.execute(psycopg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(psycopg.sql.Identifier(schema)))
    folder = resources.files("mcpwarden.store") / "migrations" / "postgres"
    with resources.as_file(folder) as path:
        migrations = read_migrations(str(path))
        backend = get_backend(_yoyo_url(url, schema))
        try:
            with backend.lock():
                backend.apply_migrations(backend.to_apply(migrations))
        finally:
            backend.connection.close()


class PostgresPool:
    """One pool per process, shared by the pin store and the session registry."""

    def __init__(self, url: str, schema: str, *, timeout_s: float = 2.0) -> None:
        self.url = url
        self.schema = schema
        self.timeout_s = timeout_s
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_MAX,
            timeout=timeout_s,
            open=True,
            # A connection that died while pooled (server restart, network cut) is replaced
            # at checkout instead of failing the request that drew it.
            check=ConnectionPool.check_connection,
            kwargs={
                "autocommit": True,
                "connect_timeout": max(1, round(timeout_s)),
                "options": f"-c search_path={schema} -c statement_timeout={int(timeout_s * 1000)}",
            },
        )

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection; unreachable database → `StoreUnavailable`."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise StoreUnavailable(f"PostgreSQL store unreachable: {exc}") from exc

    def ping(self) -> bool:
        try:
            with self.connection() as conn:
                conn.execute("SELECT 1")
            return True
        except StoreUnavailable:
            return False

    def close(self) -> None:
        self._pool.close()


class PostgresStore(Store):
    def __init__(
        self, pool: PostgresPool, feed: ChangeFeed | None = None, *, clock: Callable[[], str] = utc_now
    ) -> None:
        self.pool = pool
        self.feed = feed
        self.path = f"postgres schema {pool.schema}"
        self._clock = clock
        self._lock = threading.Lock()
        self._writes = 0

    # -- plumbing -------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Connection[Any]]:
        with self.pool.connection() as conn, conn.transaction():
            yield conn
            conn.execute("UPDATE store_revision SET value = value + 1 WHERE id = 1")
        with self._lock:
            self._writes += 1
        self._announce()

    def _announce(self) -> None:
        if self.feed is None:
            return
        try:
            self.feed.publish("pins")
        except redis.RedisError as exc:
            # The change is committed; other replicas without a live feed read the revision
            # counter instead, and a feed that reconnects assumes everything changed.
            log.warning("could not announce a pin change: %s", exc)

    def schema_version(self) -> int:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT count(*) FROM _yoyo_migration").fetchone()
        return int(row[0]) if row else 0

    def revision(self) -> tuple[int, ...]:
        generation = self.feed.generation("pins") if self.feed is not None else None
        if generation is not None:
            return (1, generation, self._writes)
        with self.pool.connection() as conn:
            row = conn.execute("SELECT value FROM store_revision WHERE id = 1").fetchone()
        return (0, int(row[0]) if row else 0, self._writes)

    def close(self) -> None:
        """The pool belongs to whoever opened it (see `store.factory`)."""

    # -- pins -----------------------------------------------------------------------------

    @staticmethod
    def _row_to_pin(row: tuple[Any, ...]) -> Pin:
        return Pin(
            upstream=row[0],
            kind=row[1],
            name=row[2],
            hash=row[3],
            definition=row[4],
            status=cast(PinStatus, row[5]),
            approved_by=row[6],
            approved_at=row[7],
            first_seen=row[8],
            pending_hash=row[9],
            pending_definition=row[10],
            pending_diff=row[11],
            pending_since=row[12],
        )

    def _get(self, conn: psycopg.Connection[Any], upstream: str, kind: str, name: str) -> Pin | None:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM pins WHERE upstream = %s AND kind = %s AND name = %s",
            (upstream, kind, name),
        ).fetchone()
        return self._row_to_pin(row) if row else None

    def get_pin(self, upstream: str, kind: str, name: str) -> Pin | None:
        with self.pool.connection() as conn:
            return self._get(conn, upstream, kind, name)

    def list_pins(self, upstream: str | None = None, *, kind: str | None = None) -> list[Pin]:
        clauses: list[str] = []
        args: list[str] = []
        if upstream is not None:
            clauses.append("upstream = %s")
            args.append(upstream)
        if kind is not None:
            clauses.append("kind = %s")
            args.append(kind)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self.pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM pins{where} ORDER BY upstream, kind, name", args
            ).fetchall()
        return [self._row_to_pin(r) for r in rows]

    @staticmethod
    def _write_pin(conn: psycopg.Connection[Any], pin: Pin) -> None:
        conn.execute(
            f"INSERT INTO pins ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (upstream, kind, name) DO UPDATE SET hash = EXCLUDED.hash, "
            "definition = EXCLUDED.definition, status = EXCLUDED.status, "
            "approved_by = EXCLUDED.approved_by, approved_at = EXCLUDED.approved_at, "
            "first_seen = EXCLUDED.first_seen, pending_hash = EXCLUDED.pending_hash, "
            "pending_definition = EXCLUDED.pending_definition, pending_diff = EXCLUDED.pending_diff, "
            "pending_since = EXCLUDED.pending_since",
            (
                pin.upstream,
                pin.kind,
                pin.name,
                pin.hash,
                Jsonb(pin.definition),
                pin.status,
                pin.approved_by,
                pin.approved_at,
                pin.first_seen,
                pin.pending_hash,
                Jsonb(pin.pending_definition) if pin.pending_definition is not None else None,
                pin.pending_diff,
                pin.pending_since,
            ),
        )

    def put_pin(self, pin: Pin) -> None:
        with self._tx() as conn:
            self._write_pin(conn, pin)

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
        with self._tx() as conn:
            # Two replicas seeing a new tool at once: the first insert wins, both get its row.
            cur = conn.execute(
                f"INSERT INTO pins ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, NULL, NULL, "
                "NULL, NULL) ON CONFLICT (upstream, kind, name) DO NOTHING",
                (
                    upstream,
                    kind,
                    name,
                    hash_,
                    Jsonb(definition),
                    status,
                    pin.approved_by,
                    pin.approved_at,
                    now,
                ),
            )
            if cur.rowcount == 0:
                existing = self._get(conn, upstream, kind, name)
                assert existing is not None
                return existing
        return pin

    def record_pending(
        self, upstream: str, kind: str, name: str, definition: dict[str, Any], hash_: str, diff: str
    ) -> bool:
        current = self.get_pin(upstream, kind, name)
        if current is None:
            raise StoreError(f"no pin for {upstream}/{kind}/{name}")
        if current.pending_hash == hash_ or (current.hash == hash_ and current.pending_hash is None):
            return False  # already queued (or already pinned): no write, no revision bump
        with self._tx() as conn:
            conn.execute(
                "UPDATE pins SET pending_hash = %s, pending_definition = %s, pending_diff = %s, "
                "pending_since = %s, status = 'quarantined' WHERE upstream = %s AND kind = %s AND name = %s",
                (hash_, Jsonb(definition), diff, self._clock(), upstream, kind, name),
            )
        return True

    def set_status(self, upstream: str, kind: str, name: str, status: PinStatus, by: str | None) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE pins SET status = %s WHERE upstream = %s AND kind = %s AND name = %s",
                (status, upstream, kind, name),
            )

    def approve(
        self, upstream: str, kind: str, name: str, by: str, *, expected_hash: str | None = None
    ) -> Pin:
        with self._tx() as conn:
            pin = self._locked(conn, upstream, kind, name)
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
                    "pending_since = NULL, status = 'approved', approved_by = %s, approved_at = %s "
                    "WHERE upstream = %s AND kind = %s AND name = %s",
                    (by, now, upstream, kind, name),
                )
            else:
                conn.execute(
                    "UPDATE pins SET status = 'approved', approved_by = %s, approved_at = %s "
                    "WHERE upstream = %s AND kind = %s AND name = %s",
                    (by, now, upstream, kind, name),
                )
            result = self._get(conn, upstream, kind, name)
        assert result is not None
        return result

    def _locked(self, conn: psycopg.Connection[Any], upstream: str, kind: str, name: str) -> Pin:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM pins WHERE upstream = %s AND kind = %s AND name = %s FOR UPDATE",
            (upstream, kind, name),
        ).fetchone()
        if row is None:
            raise StoreError(f"no pin for {upstream}/{kind}/{name}")
        return self._row_to_pin(row)

    def reject(self, upstream: str, kind: str, name: str, by: str) -> Pin:
        with self._tx() as conn:
            self._locked(conn, upstream, kind, name)
            conn.execute(
                "UPDATE pins SET status = 'rejected' WHERE upstream = %s AND kind = %s AND name = %s",
                (upstream, kind, name),
            )
            result = self._get(conn, upstream, kind, name)
        assert result is not None
        return result

    def delete_pin(self, upstream: str, kind: str, name: str) -> bool:
        with self._tx() as conn:
            cur = conn.execute(
                "DELETE FROM pins WHERE upstream = %s AND kind = %s AND name = %s", (upstream, kind, name)
            )
            return cur.rowcount > 0
