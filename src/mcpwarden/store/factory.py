"""Open the configured backends once per process and share them.

The pin store, the session registry and the readiness check of one gateway all talk to
the same PostgreSQL pool, Redis client and change feed: one set of connections per
process, one subscription per process. `open_backends` returns the same `Backends` for the
same settings until `close()`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mcpwarden.store.base import Store, StoreUnavailable
from mcpwarden.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    import redis

    from mcpwarden.store.changes import ChangeFeed
    from mcpwarden.store.config import StoreConfig
    from mcpwarden.store.postgres import PostgresPool

FEED_START_WAIT_S = 5.0

_lock = threading.Lock()
_open: dict[tuple[str, ...], Backends] = {}


@dataclass
class Backends:
    config: StoreConfig
    replica: str
    store: Store
    pool: PostgresPool | None = None
    redis: redis.Redis | None = None
    feed: ChangeFeed | None = None
    _key: tuple[str, ...] = field(default=())

    @property
    def shared(self) -> bool:
        """True when state is shared between replicas (PostgreSQL + Redis)."""
        return self.pool is not None

    def readiness(self) -> dict[str, str]:
        """Each backend's state, `ok` or why not: what `/readyz` reports."""
        if self.pool is None:
            try:
                self.store.revision()
                return {"sqlite": "ok"}
            except Exception as exc:
                return {"sqlite": f"unavailable: {exc}"}
        out = {"postgres": "ok" if self.pool.ping() else "unreachable"}
        assert self.feed is not None
        out["redis"] = "ok" if self.feed.ping() else "unreachable"
        out["change_feed"] = (
            "subscribed" if self.feed.connected else "down (reading the database per request)"
        )
        return out

    def ready(self) -> bool:
        return all(v in ("ok", "subscribed") for k, v in self.readiness().items() if k != "change_feed")

    def close(self) -> None:
        with _lock:
            _open.pop(self._key, None)
        self.store.close()
        if self.feed is not None:
            self.feed.close()
        if self.redis is not None:
            self.redis.close()
        if self.pool is not None:
            self.pool.close()


def open_backends(config: StoreConfig, replica: str, *, start_feed: bool = True) -> Backends:
    """The backends for `config`, opened on first use (migrations applied for PostgreSQL).

    SQLite is opened fresh on every call, as before: each user holds its own connection to
    the file, and nothing needs sharing.
    """
    if config.backend == "sqlite":
        return _open_new(config, replica, start_feed=False)
    key = (
        config.backend,
        config.path,
        config.url or "",
        config.schema_name,
        config.redis_url or "",
        config.redis_prefix,
        replica,
    )
    with _lock:
        found = _open.get(key)
        if found is not None:
            return found
        backends = _open_new(config, replica, start_feed=start_feed)
        backends._key = key
        _open[key] = backends
        return backends


def _open_new(config: StoreConfig, replica: str, *, start_feed: bool) -> Backends:
    if config.backend == "sqlite":
        return Backends(config, replica, SQLiteStore(config.path))
    import psycopg

    from mcpwarden.store.changes import ChangeFeed
    from mcpwarden.store.postgres import PostgresPool, PostgresStore, apply_migrations
    from mcpwarden.store.redis_client import redis_client

    assert config.url is not None and config.redis_url is not None
    try:
        apply_migrations(config.url, config.schema_name)
    except psycopg.OperationalError as exc:
        raise StoreUnavailable(f"PostgreSQL store unreachable at startup: {exc}") from exc
    pool = PostgresPool(config.url, config.schema_name, timeout_s=config.timeout_s)
    client = redis_client(config.redis_url, config.timeout_s)
    feed = ChangeFeed(config.redis_url, config.redis_prefix, replica, timeout_s=config.timeout_s)
    if start_feed:
        feed.start(wait_s=FEED_START_WAIT_S)
    return Backends(config, replica, PostgresStore(pool, feed), pool=pool, redis=client, feed=feed)
