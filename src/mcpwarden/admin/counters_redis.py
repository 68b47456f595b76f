"""Per-session counters of every replica in Redis, for `mcpwarden admin sessions -c`.

With one gateway the counters go to a table of its SQLite file. Replicas each publish
theirs to a hash of their own, `PREFIX:counters:<replica>` (field: session handle, value:
the counts as JSON), whose expiry is renewed with every publish: a replica that dies takes
its counters with it after `TTL_S`, as its presence key does, so the CLI never shows a
dead replica's sessions as live.
"""

from __future__ import annotations

from typing import Any

import orjson
import redis

from mcpwarden.admin.counters import SessionCounters
from mcpwarden.store.base import StoreUnavailable

TTL_S = 10


def counters_key(prefix: str, replica: str) -> str:
    return f"{prefix}:counters:{replica}"


def publish_counters(
    counters: SessionCounters, client: redis.Redis, prefix: str, replica: str, *, full: bool = False
) -> None:
    """Write what changed since the last publish, and keep this replica's hash alive.

    `full` rewrites the hash from scratch: at start and after a failed publish, whose
    changes are lost (the hash may also have expired meanwhile).
    """
    rows, gone = counters.take_changes(everything=full)
    key = counters_key(prefix, replica)
    try:
        pipe = client.pipeline(transaction=True)
        if full:
            pipe.delete(key)
        if rows:
            pipe.hset(key, mapping={h: orjson.dumps(c.to_dict()) for h, c in rows})
        if gone and not full:
            pipe.hdel(key, *gone)
        pipe.expire(key, TTL_S)
        pipe.execute()
    except redis.RedisError as exc:
        raise StoreUnavailable(f"Redis unreachable (session counters not published): {exc}") from exc


def read_replica_counters(client: redis.Redis, prefix: str, replicas: list[str]) -> dict[str, dict[str, Any]]:
    """Counters by session handle, over the given replicas' hashes."""
    out: dict[str, dict[str, Any]] = {}
    try:
        for replica in replicas:
            raw: dict[bytes, bytes] = client.hgetall(counters_key(prefix, replica))  # type: ignore[assignment]
            for handle, value in raw.items():
                counts = orjson.loads(value)
                if isinstance(counts, dict):
                    out[handle.decode()] = counts
    except redis.RedisError as exc:
        raise StoreUnavailable(f"Redis unreachable (session counters): {exc}") from exc
    return out
