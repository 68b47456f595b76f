"""Token buckets in the SQLite file: two connections (two workers) share every bucket."""

from __future__ import annotations

from pathlib import Path

from mcpwarden.admin.ratelimit import Rate
from mcpwarden.admin.ratelimit_sqlite import SQLiteTokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_two_workers_draw_from_one_bucket(tmp_path: Path) -> None:
    clock = Clock()
    a = SQLiteTokenBuckets(tmp_path / "store.sqlite3", clock=clock)
    b = SQLiteTokenBuckets(tmp_path / "store.sqlite3", clock=clock)
    limit = Rate(rate=1.0, burst=3)
    assert [
        a.acquire("t:feat/add", limit),
        b.acquire("t:feat/add", limit),
        a.acquire("t:feat/add", limit),
    ] == [
        0.0,
        0.0,
        0.0,
    ]
    assert b.acquire("t:feat/add", limit) == 1.0  # the shared burst is spent: one second to the next token
    clock.now += 1.0
    assert b.acquire("t:feat/add", limit) == 0.0
    assert a.acquire("t:other", limit) == 0.0  # another key, another bucket


def test_refilled_buckets_are_pruned(tmp_path: Path) -> None:
    import mcpwarden.admin.ratelimit_sqlite as mod

    clock = Clock()
    buckets = SQLiteTokenBuckets(tmp_path / "store.sqlite3", clock=clock)
    limit = Rate(rate=10.0, burst=1)
    for i in range(mod.PRUNE_EVERY - 1):
        buckets.acquire(f"k{i}", limit)
    clock.now += 1.0  # every bucket has refilled
    buckets.acquire("last", limit)
    rows = buckets._conn.execute("SELECT key FROM rate_buckets").fetchall()
    assert rows == [("last",)]
