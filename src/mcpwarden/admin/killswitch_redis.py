"""The kill switch shared by replicas: one Redis hash, changes announced on the change feed.

With several replicas, a disable must stop calls on every one of them, not only on the
replica whose admin API (or CLI) wrote it. The entries live in one Redis hash
(`PREFIX:killswitch`, field `kind:name`, value the entry as JSON); a write and its
announcement on the change feed (`killswitch` topic) go in one MULTI transaction, so no
replica can see one without the other. Each replica keeps the set in memory and re-reads
the hash only when the feed's `killswitch` generation moved: an unchanged switch costs no
round trip, and a change reaches every replica's next message within milliseconds.

Fail closed: while the feed is not subscribed it vouches for nothing, so the hash is read
on every message; when Redis cannot be reached that read raises `StoreUnavailable` and the
message is refused, because a disable written meanwhile could not be seen.

Durability is Redis's: run it with persistence (`appendonly yes`, examples/replicas) so a
Redis restart does not silently lift every disable.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import orjson
import redis

from mcpwarden.admin.killswitch import (
    KINDS,
    Disabled,
    KillSwitchStore,
    _now,
    normalize,
)
from mcpwarden.store.base import StoreUnavailable

if TYPE_CHECKING:
    from mcpwarden.store.changes import ChangeFeed

log = logging.getLogger("mcpwarden.admin.killswitch")

TOPIC = "killswitch"
# An incident needs a handful of entries; a bound keeps every replica's per-change read small.
MAX_ENTRIES = 10_000


def _parse(raw: bytes) -> Disabled | None:
    try:
        d = orjson.loads(raw)
        if d["kind"] not in KINDS or not isinstance(d["name"], str):
            return None
        return Disabled(d["kind"], d["name"], str(d["disabled_at"]), str(d["disabled_by"]), d.get("reason"))
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None


class RedisKillSwitch(KillSwitchStore):
    """A `KillSwitchStore` on Redis; `feed` may be None (the CLI), then nothing is cached."""

    def __init__(
        self, client: redis.Redis, prefix: str, feed: ChangeFeed | None, *, own_client: bool = False
    ) -> None:
        self.client = client
        self._own_client = own_client
        self.key = f"{prefix}:killswitch"
        self.channel = f"{prefix}:changes"  # the change feed's channel (store.changes)
        self.feed = feed
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], Disabled] = {}
        self._seen: int | None = None
        self._loaded = False

    def close(self) -> None:
        """Close the client only when this object opened it (the CLI); the gateway's is shared."""
        if self._own_client:
            self.client.close()

    def _read(self) -> dict[tuple[str, str], Disabled]:
        try:
            raw: dict[bytes, bytes] = self.client.hgetall(self.key)  # type: ignore[assignment]
        except redis.RedisError as exc:
            raise StoreUnavailable(f"Redis unreachable (kill switch cannot be checked): {exc}") from exc
        out: dict[tuple[str, str], Disabled] = {}
        for field, value in raw.items():
            entry = _parse(value)
            if entry is None:
                log.warning("ignoring a malformed kill-switch entry %r", field[:100])
                continue
            out[(entry.kind, entry.name)] = entry
        return out

    # -- reading (the gateway, per message) -----------------------------------------------

    def refresh(self) -> tuple[list[Disabled], list[Disabled]]:
        """Re-read the hash if the feed announced a change (or cannot vouch); (added, removed)."""
        generation = self.feed.generation(TOPIC) if self.feed is not None else None
        with self._lock:
            if self._loaded and generation is not None and generation == self._seen:
                return [], []
            fresh = self._read()
            # What was disabled before this process started is its starting state, not news.
            first = not self._loaded
            added = [] if first else [d for k, d in fresh.items() if k not in self._entries]
            removed = [] if first else [d for k, d in self._entries.items() if k not in fresh]
            self._entries = fresh
            self._seen = generation
            self._loaded = True
            return added, removed

    # -- writing (the CLI and the admin API) ----------------------------------------------

    def _write(self, op: str, field: str, value: bytes | None = None) -> list[Any]:
        message = orjson.dumps({"topic": TOPIC, "replica": self.feed.replica if self.feed else "cli"})
        try:
            pipe = self.client.pipeline(transaction=True)
            if op == "set":
                assert value is not None
                pipe.hset(self.key, field, value)
            else:
                pipe.hdel(self.key, field)
            pipe.publish(self.channel, message)
            return pipe.execute()
        except redis.RedisError as exc:
            raise StoreUnavailable(f"Redis unreachable (kill switch not changed): {exc}") from exc

    def disable(self, kind: str, name: str, *, by: str, reason: str | None = None) -> Disabled:
        k, n = normalize(kind, name)
        entry = Disabled(k, n, _now(), by, reason)
        try:
            count = int(self.client.hlen(self.key))
        except redis.RedisError as exc:
            raise StoreUnavailable(f"Redis unreachable (kill switch not changed): {exc}") from exc
        if count >= MAX_ENTRIES:
            raise ValueError(f"the kill switch holds {count} entries already (at most {MAX_ENTRIES})")
        self._write("set", f"{k}:{n}", orjson.dumps(entry.to_dict()))
        with self._lock:
            self._entries[(k, n)] = entry
        return entry

    def enable(self, kind: str, name: str) -> bool:
        """Lift a disable; False when nothing matched."""
        k, n = normalize(kind, name)
        removed = self._write("del", f"{k}:{n}")[0]
        with self._lock:
            self._entries.pop((k, n), None)
        return bool(removed)

    def list(self) -> list[Disabled]:
        return sorted(self._read().values(), key=lambda d: (d.kind, d.name))
