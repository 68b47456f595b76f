"""The authorization server's records in PostgreSQL, for replicas sharing one store.

The table comes from the store migrations (`0003.oauth.sql`); connections come from the
process's shared `PostgresPool`, so this adds no connections of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcpwarden.authserver.store import OAuthStore

if TYPE_CHECKING:
    from mcpwarden.store.postgres import PostgresPool


class PostgresOAuthStore(OAuthStore):
    def __init__(
        self, pool: PostgresPool, clock: Callable[[], float] = time.time, *, owns_pool: bool = False
    ) -> None:
        """`owns_pool`: the pool was opened for this store alone (the CLI) and closes with it."""
        super().__init__(clock)
        self._pool = pool
        self._owns_pool = owns_pool

    def _execute(self, sql: str, params: tuple[Any, ...]) -> int:
        with self._pool.connection() as conn:
            return conn.execute(sql.replace("?", "%s"), params).rowcount

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._pool.connection() as conn:
            return list(conn.execute(sql.replace("?", "%s"), params).fetchall())

    def close(self) -> None:
        if self._owns_pool:  # otherwise the pool is the process's, closed with the other backends
            self._pool.close()
