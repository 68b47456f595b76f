"""The Redis change feed on a real Redis (skipped, with the reason, where none is reachable)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from gwtest.ports import dead_port
from gwtest.services import REDIS_URL, scratch_prefix
from mcpwarden.store.changes import ChangeFeed


@pytest.fixture
def prefix() -> Iterator[str]:
    with scratch_prefix() as p:
        yield p


def wait_until(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the change never arrived"
        time.sleep(0.01)


def test_a_change_published_by_one_replica_bumps_the_generation_on_another(prefix: str) -> None:
    a, b = ChangeFeed(REDIS_URL, prefix, "a"), ChangeFeed(REDIS_URL, prefix, "b")
    try:
        assert a.start(wait_s=10) and b.start(wait_s=10)
        before_pins, before_sessions = b.generation("pins"), b.generation("sessions")
        a.publish("pins")
        wait_until(lambda: b.generation("pins") != before_pins)
        assert b.generation("sessions") == before_sessions
    finally:
        a.close()
        b.close()


def test_a_feed_that_is_not_subscribed_vouches_for_nothing(prefix: str) -> None:
    feed = ChangeFeed(REDIS_URL, prefix, "a")
    assert feed.generation("pins") is None


def test_a_feed_without_redis_vouches_for_nothing_and_says_so() -> None:
    port = dead_port()  # nothing listens here
    feed = ChangeFeed(f"redis://127.0.0.1:{port}/0", "x", "a", timeout_s=0.5)
    try:
        assert not feed.start(wait_s=1.0)
        assert feed.generation("pins") is None and not feed.ping()
    finally:
        feed.close()


def test_foreign_messages_on_the_channel_are_ignored(prefix: str) -> None:
    import redis

    feed = ChangeFeed(REDIS_URL, prefix, "a")
    try:
        assert feed.start(wait_s=10)
        before = feed.generation("pins")
        client = redis.Redis.from_url(REDIS_URL)
        client.publish(feed.channel, b"not json")
        client.publish(feed.channel, b'{"topic": "nonsense"}')
        client.publish(feed.channel, b"x" * 10_000)
        feed.publish("sessions")  # a marker: once it arrived, the junk before it was handled
        wait_until(lambda: feed.generation("sessions") != 1)
        assert feed.generation("pins") == before
    finally:
        feed.close()
