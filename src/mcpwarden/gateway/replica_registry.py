"""The live-session table for replicas: rows in PostgreSQL, owners and presence in Redis.

The same interface as the SQLite `SessionRegistry`, so the core and `mcpwarden sessions`
do not care which one they hold. What changes with several replicas:

* a session belongs to the replica that minted it (its upstream sessions and stdio
  children live there); the owner is recorded in Redis under the session's handle, so any
  other replica can answer a stray request with a 404 that names the owner;
* a replica proves it is alive by refreshing a heartbeat key every second; rows of a
  replica whose key expired are stale (crash, kill -9) and are dropped by the next replica
  that starts;
* a revocation, made from any replica or the CLI, is written to PostgreSQL and announced on
  the change feed, so the owner closes the session as soon as Redis delivers the message.
  While the feed is down the owner asks PostgreSQL on every request instead.

A backend that cannot be reached raises `StoreUnavailable`: a session whose revocation
status cannot be checked is not served.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import orjson
import redis

from mcpwarden.gateway.session_registry import (
    MIN_HANDLE_PREFIX,
    SessionRow,
    _now,
    session_handle,
)
from mcpwarden.store.base import StoreUnavailable
from mcpwarden.store.changes import ChangeFeed
from mcpwarden.store.postgres import PostgresPool
from mcpwarden.types import Principal

log = logging.getLogger("mcpwarden.store.sessions")

HEARTBEAT_TTL_S = 10
_COLUMNS = (
    "handle, principal, subject, issuer, client_id, endpoint, upstreams, created_at, replica, "
    "revoked_at, revoked_by"
)


def _row(r: tuple[Any, ...]) -> SessionRow:
    return SessionRow(
        handle=r[0],
        principal=r[1],
        subject=r[2],
        issuer=r[3],
        client_id=r[4],
        endpoint=r[5],
        upstreams=r[6],
        created_at=r[7],
        gateway_pid=0,
        revoked_at=r[9],
        revoked_by=r[10],
        replica=r[8],
    )


class ReplicaSessionRegistry:
    def __init__(
        self,
        pool: PostgresPool,
        redis_client: redis.Redis,
        feed: ChangeFeed | None,
        *,
        prefix: str,
        replica: str,
        replica_url: str | None = None,
        session_ttl_s: float = 86400.0,
    ) -> None:
        self.pool = pool
        self.redis = redis_client
        self.feed = feed
        self.prefix = prefix
        self.replica = replica
        self.replica_url = replica_url
        self.session_ttl_s = max(1, int(session_ttl_s))
        self._seen: int | None = None

    # -- keys ------------------------------------------------------------------------------

    def _replica_key(self, replica: str) -> str:
        return f"{self.prefix}:replica:{replica}"

    def _session_key(self, handle: str) -> str:
        return f"{self.prefix}:session:{handle}"

    def _redis(self) -> redis.Redis:
        return self.redis

    def close(self) -> None:
        """The pool and the Redis client belong to whoever opened them."""

    # -- presence ----------------------------------------------------------------------------

    def heartbeat(self) -> None:
        """Refresh this replica's presence key (called every second by the core's sweeper)."""
        value = orjson.dumps({"url": self.replica_url, "pid": os.getpid()})
        try:
            self.redis.set(self._replica_key(self.replica), value, ex=HEARTBEAT_TTL_S)
        except redis.RedisError as exc:
            raise StoreUnavailable(f"Redis unreachable: {exc}") from exc

    def retire(self) -> None:
        """Say goodbye on a clean stop, so the others need not wait for the key to expire."""
        try:
            self.redis.delete(self._replica_key(self.replica))
        except redis.RedisError as exc:
            log.warning("could not retire replica key: %s", exc)

    def _alive(self, replicas: list[str]) -> dict[str, bool]:
        if not replicas:
            return {}
        try:
            values = self.redis.mget([self._replica_key(r) for r in replicas])
        except redis.RedisError as exc:
            raise StoreUnavailable(f"Redis unreachable: {exc}") from exc
        return {r: v is not None for r, v in zip(replicas, values, strict=True)}

    def owner_of(self, session_id: str) -> tuple[str, str | None, bool] | None:
        """(replica id, its URL, alive) of the replica that owns `session_id`, if any."""
        try:
            owner = self.redis.get(self._session_key(session_handle(session_id)))
            if owner is None:
                return None
            replica = owner.decode() if isinstance(owner, bytes) else str(owner)
            info = self.redis.get(self._replica_key(replica))
        except redis.RedisError as exc:
            raise StoreUnavailable(f"Redis unreachable: {exc}") from exc
        if info is None:
            return (replica, None, False)
        url = orjson.loads(info).get("url")
        return (replica, url if isinstance(url, str) else None, True)

    # -- gateway side ------------------------------------------------------------------------

    def forget_dead_gateways(self) -> int:
        """Drop rows of replicas whose heartbeat expired, and our own rows from a past life."""
        with self.pool.connection() as conn:
            replicas = [str(r[0]) for r in conn.execute("SELECT DISTINCT replica FROM gateway_sessions")]
            alive = self._alive([r for r in replicas if r != self.replica])
            dead = [r for r in replicas if r == self.replica or not alive.get(r, False)]
            for replica in dead:
                conn.execute("DELETE FROM gateway_sessions WHERE replica = %s", (replica,))
        self._seen = self.feed.generation("sessions") if self.feed is not None else None
        return len(dead)

    def add(self, session_id: str, principal: Principal, endpoint: str, upstreams: list[str]) -> None:
        handle = session_handle(session_id)
        with self.pool.connection() as conn:
            conn.execute(
                f"INSERT INTO gateway_sessions ({_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,NULL,NULL) "
                "ON CONFLICT (handle) DO NOTHING",
                (
                    handle,
                    principal.key,
                    principal.subject,
                    principal.issuer,
                    principal.client_id,
                    endpoint,
                    ",".join(upstreams),
                    _now(),
                    self.replica,
                ),
            )
        try:
            self.redis.set(self._session_key(handle), self.replica, ex=self.session_ttl_s)
        except redis.RedisError as exc:
            # No owner record, no session: take the row back so it is not listed as live.
            with self.pool.connection() as conn:
                conn.execute("DELETE FROM gateway_sessions WHERE handle = %s", (handle,))
            raise StoreUnavailable(f"Redis unreachable: {exc}") from exc

    def remove(self, session_id: str) -> None:
        handle = session_handle(session_id)
        try:
            with self.pool.connection() as conn:
                conn.execute("DELETE FROM gateway_sessions WHERE handle = %s", (handle,))
            self.redis.delete(self._session_key(handle))
        except (StoreUnavailable, redis.RedisError) as exc:
            # The session is gone here either way; its row is dropped as stale later.
            log.warning("could not remove session row: %s", exc)

    def revoked_since_last_poll(self) -> list[str]:
        """Handles of this replica's sessions revoked since the last call.

        Free while the change feed says nothing about sessions changed; one query otherwise,
        and on every call while the feed is down (a revocation must never be missed).
        """
        generation = self.feed.generation("sessions") if self.feed is not None else None
        if generation is not None and generation == self._seen:
            return []
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT handle FROM gateway_sessions WHERE replica = %s AND revoked_at IS NOT NULL",
                (self.replica,),
            ).fetchall()
        self._seen = generation
        return [str(r[0]) for r in rows]

    # -- CLI side ------------------------------------------------------------------------------

    def rows(self, *, include_stale: bool = False) -> list[SessionRow]:
        with self.pool.connection() as conn:
            out = [
                _row(r)
                for r in conn.execute(f"SELECT {_COLUMNS} FROM gateway_sessions ORDER BY created_at, handle")
            ]
        if include_stale:
            return out
        alive = self._alive(sorted({r.replica for r in out if r.replica}))
        return [r for r in out if alive.get(r.replica or "", False)]

    def revoke(
        self, *, by: str, handle: str | None = None, subject: str | None = None, issuer: str | None = None
    ) -> list[SessionRow]:
        """Mark matching sessions revoked and tell every replica (see the SQLite registry)."""
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
        with self.pool.connection() as conn, conn.transaction():
            for r in rows:
                conn.execute(
                    "UPDATE gateway_sessions SET revoked_at = %s, revoked_by = %s WHERE handle = %s",
                    (when, by, r.handle),
                )
        if self.feed is not None:
            try:
                self.feed.publish("sessions")
            except redis.RedisError as exc:
                log.warning("could not announce a revocation (owners poll while Redis is away): %s", exc)
        return rows

    def ping(self) -> bool:
        try:
            return self.pool.ping() and bool(self.redis.ping())
        except redis.RedisError:
            return False
