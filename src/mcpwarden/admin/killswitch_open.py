"""Open the kill switch a store config names, loading the Redis client only for Redis.

Every gateway start opens its kill switch, and most run on the default SQLite store.
Importing redis-py costs about 0.7 s of CPU on a 2-core machine (a quarter of a gateway's
start), which the SQLite gateway, `mcpwarden wrap` and the admin CLI have no use for; so the
choice lives here, apart from the Redis implementation, and imports it only when asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcpwarden.admin.killswitch import KillSwitch, KillSwitchStore

if TYPE_CHECKING:
    from mcpwarden.store.config import StoreConfig
    from mcpwarden.store.factory import Backends


def open_killswitch(store: StoreConfig, backends: Backends | None = None) -> KillSwitchStore:
    """The kill switch of this store config: the SQLite table, or the Redis hash of replicas.

    The gateway passes its open `backends` (shared client, subscribed feed); the CLI passes
    none and gets a client of its own, closed by `close()`.
    """
    if store.backend == "sqlite":
        return KillSwitch(store.path)
    from mcpwarden.admin.killswitch_redis import RedisKillSwitch
    from mcpwarden.store.redis_client import redis_client

    if backends is not None and backends.redis is not None:
        return RedisKillSwitch(backends.redis, store.redis_prefix, backends.feed)
    assert store.redis_url is not None
    client = redis_client(store.redis_url, store.timeout_s)
    return RedisKillSwitch(client, store.redis_prefix, None, own_client=True)
