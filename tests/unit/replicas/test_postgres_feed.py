"""PostgresStore.revision() with the change feed, on real PostgreSQL and Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from gwtest.services import REDIS_URL, postgres_or_skip, scratch_prefix, scratch_schema
from mcpwarden.store.changes import ChangeFeed
from mcpwarden.store.postgres import PostgresPool, PostgresStore, apply_migrations

DEFN = {"name": "add", "description": "Add."}


@pytest.fixture
def replicas() -> Iterator[tuple[PostgresStore, PostgresStore]]:
    url = postgres_or_skip()
    with scratch_schema() as schema, scratch_prefix() as prefix:
        apply_migrations(url, schema)
        pools = [PostgresPool(url, schema), PostgresPool(url, schema)]
        feeds = [ChangeFeed(REDIS_URL, prefix, "a"), ChangeFeed(REDIS_URL, prefix, "b")]
        assert all(f.start(wait_s=10) for f in feeds)
        try:
            yield PostgresStore(pools[0], feeds[0]), PostgresStore(pools[1], feeds[1])
        finally:
            for f in feeds:
                f.close()
            for p in pools:
                p.close()


def test_a_write_on_one_replica_changes_the_revision_on_the_other(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = replicas
    a.new_pin("up", "tool", "add", DEFN, "h1", status="quarantined")
    before = b.revision()
    a.approve("up", "tool", "add", "alice")
    deadline = time.monotonic() + 10
    while b.revision() == before:
        assert time.monotonic() < deadline, "the approval never reached the other replica"
        time.sleep(0.01)
    assert b.get_pin("up", "tool", "add").is_approved  # type: ignore[union-attr]


def test_while_the_feed_is_down_the_revision_comes_from_the_database(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = replicas
    assert b.feed is not None
    b.feed.close()  # no longer subscribed: it vouches for nothing
    a.new_pin("up", "tool", "add", DEFN, "h1", status="quarantined")
    before = b.revision()
    a.feed = None  # and nothing is announced either
    a.approve("up", "tool", "add", "alice")
    assert b.revision() != before
