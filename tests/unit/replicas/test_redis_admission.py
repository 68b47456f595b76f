"""Rate buckets, the kill switch and session counters on a real Redis, as replicas share them.

Skipped, with the reason, where no Redis is reachable. Each test has its own key prefix.
Two objects on one prefix stand for two replicas: they share nothing but Redis.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import orjson
import pytest
import redis

from gwtest.ports import dead_port
from gwtest.services import REDIS_URL, scratch_prefix
from mcpwarden.admin.admission import Admission
from mcpwarden.admin.config import LimitsConfig, RateConfig
from mcpwarden.admin.counters import SessionCounters
from mcpwarden.admin.counters_redis import counters_key, publish_counters, read_replica_counters
from mcpwarden.admin.killswitch_redis import RedisKillSwitch
from mcpwarden.admin.ratelimit import Rate
from mcpwarden.admin.ratelimit_redis import RedisTokenBuckets
from mcpwarden.gateway.http_errors import HttpRejection
from mcpwarden.store.base import StoreUnavailable
from mcpwarden.store.changes import ChangeFeed
from mcpwarden.store.redis_client import redis_client
from mcpwarden.types import Principal


@pytest.fixture
def prefix() -> Iterator[str]:
    with scratch_prefix() as p:
        yield p


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    yield c
    c.close()


def dead_redis() -> redis.Redis:
    port = dead_port()  # nothing listens here
    return redis_client(f"redis://127.0.0.1:{port}/0", 0.5)


def wait_until(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


# -- rate buckets ---------------------------------------------------------------------------


def test_two_replicas_draw_from_one_bucket(prefix: str, client: redis.Redis) -> None:
    a, b = RedisTokenBuckets(client, prefix), RedisTokenBuckets(client, prefix)
    limit = Rate(rate=0.01, burst=3)  # no refill worth counting during the test
    waits = [a.acquire("k", limit), b.acquire("k", limit), a.acquire("k", limit), b.acquire("k", limit)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] > 0


def test_an_empty_bucket_says_how_long_until_the_next_token(prefix: str, client: redis.Redis) -> None:
    buckets = RedisTokenBuckets(client, prefix)
    limit = Rate(rate=0.5, burst=1)
    assert buckets.acquire("k", limit) == 0.0
    # One token every 2 s: the wait is at most 2 s and close to it right after the take.
    assert 1.5 < buckets.acquire("k", limit) <= 2.0


def test_a_bucket_refills_at_the_sustained_rate(prefix: str, client: redis.Redis) -> None:
    buckets = RedisTokenBuckets(client, prefix)
    limit = Rate(rate=20.0, burst=1)
    assert buckets.acquire("k", limit) == 0.0
    wait = buckets.acquire("k", limit)
    assert 0 < wait <= 0.05
    time.sleep(wait + 0.01)
    assert buckets.acquire("k", limit) == 0.0


def test_a_bucket_key_expires_once_it_would_be_full_again(prefix: str, client: redis.Redis) -> None:
    buckets = RedisTokenBuckets(client, prefix)
    buckets.acquire("k", Rate(rate=1.0, burst=5))
    ttl_ms = client.pttl(buckets.key("k"))
    assert 0 < ttl_ms <= 6000  # 5 tokens at 1/s refill in 5 s, plus a second of slack


def test_a_long_bucket_key_is_stored_under_its_hash(prefix: str) -> None:
    buckets = RedisTokenBuckets(redis.Redis.from_url(REDIS_URL), prefix)
    key = buckets.key("p:" + "x" * 10_000)
    assert len(key) < len(prefix) + 80 and key.startswith(f"{prefix}:rl:h:")


def test_buckets_fail_closed_when_redis_is_down(prefix: str) -> None:
    buckets = RedisTokenBuckets(dead_redis(), prefix)
    with pytest.raises(StoreUnavailable, match="rate limits cannot be checked"):
        buckets.acquire("k", Rate(rate=1.0, burst=1))


def test_a_principal_limit_on_a_down_redis_is_answered_503_store_unavailable(prefix: str) -> None:
    limits = LimitsConfig(per_principal=RateConfig(rate=1.0, burst=1))
    admission = Admission(limits, limiter=RedisTokenBuckets(dead_redis(), prefix))
    with pytest.raises(HttpRejection) as caught:
        admission.http_retry_after(Principal())
    assert (caught.value.status, caught.value.reason) == (503, "store.unavailable")


# -- kill switch ----------------------------------------------------------------------------


def test_a_disable_through_one_replica_blocks_on_another_after_the_feed_delivers(
    prefix: str, client: redis.Redis
) -> None:
    feed_a, feed_b = ChangeFeed(REDIS_URL, prefix, "a"), ChangeFeed(REDIS_URL, prefix, "b")
    try:
        assert feed_a.start(wait_s=10) and feed_b.start(wait_s=10)
        a, b = RedisKillSwitch(client, prefix, feed_a), RedisKillSwitch(client, prefix, feed_b)
        b.refresh()
        before = feed_b.generation("killswitch")
        a.disable("server", "files", by="ops", reason="incident")
        wait_until(lambda: feed_b.generation("killswitch") != before)
        added, removed = b.refresh()
        assert [(d.kind, d.name, d.disabled_by) for d in added] == [("server", "files", "ops")]
        assert removed == []
        hit = b.blocks(
            principal_subject="u", principal_key="i|u|c", session_handle="ab", upstream="files", tool=None
        )
        assert hit is not None and hit.reason == "incident"
    finally:
        feed_a.close()
        feed_b.close()


def test_an_enable_lifts_the_disable_everywhere(prefix: str, client: redis.Redis) -> None:
    a, b = RedisKillSwitch(client, prefix, None), RedisKillSwitch(client, prefix, None)
    a.disable("tool", "files/delete", by="ops")
    b.refresh()
    assert not b.empty
    assert a.enable("tool", "files/delete")
    _, removed = b.refresh()
    assert [(d.kind, d.name) for d in removed] == [("tool", "files/delete")] and b.empty
    assert not a.enable("tool", "files/delete"), "nothing left to enable"


def test_an_unchanged_switch_is_not_reread_while_the_feed_vouches(prefix: str, client: redis.Redis) -> None:
    feed = ChangeFeed(REDIS_URL, prefix, "a")
    try:
        assert feed.start(wait_s=10)
        ks = RedisKillSwitch(client, prefix, feed)
        ks.refresh()
        # Written behind the switch's back, without an announcement: not seen until one comes.
        client.hset(
            ks.key,
            "server:x",
            orjson.dumps({"kind": "server", "name": "x", "disabled_at": "t", "disabled_by": "o"}),
        )
        assert ks.refresh() == ([], []) and ks.empty
    finally:
        feed.close()


def test_without_a_feed_every_refresh_reads_redis(prefix: str, client: redis.Redis) -> None:
    ks = RedisKillSwitch(client, prefix, None)
    ks.refresh()
    client.hset(
        ks.key,
        "server:x",
        orjson.dumps({"kind": "server", "name": "x", "disabled_at": "t", "disabled_by": "o"}),
    )
    added, _ = ks.refresh()
    assert [d.name for d in added] == ["x"]


def test_entries_present_at_start_are_the_starting_state_not_news(prefix: str, client: redis.Redis) -> None:
    RedisKillSwitch(client, prefix, None).disable("principal", "mallory", by="ops")
    fresh = RedisKillSwitch(client, prefix, None)
    assert fresh.refresh() == ([], [])
    assert [d.name for d in fresh.entries()] == ["mallory"]


def test_a_malformed_entry_is_ignored(prefix: str, client: redis.Redis) -> None:
    ks = RedisKillSwitch(client, prefix, None)
    client.hset(ks.key, "junk", b"not json")
    ks.disable("server", "files", by="ops")
    assert [d.name for d in ks.list()] == ["files"]


def test_the_kill_switch_fails_closed_when_redis_is_down(prefix: str) -> None:
    ks = RedisKillSwitch(dead_redis(), prefix, None)
    with pytest.raises(StoreUnavailable, match="kill switch cannot be checked"):
        ks.refresh()
    with pytest.raises(StoreUnavailable, match="kill switch not changed"):
        ks.disable("server", "files", by="ops")


# -- session counters -----------------------------------------------------------------------


def request(sid: str, decision: str = "allow") -> dict[str, object]:
    return {
        "event": "request",
        "session": sid,
        "decision": decision,
        "request_bytes": 10,
        "response_bytes": 20,
    }


def test_each_replica_publishes_its_counters_and_the_cli_reads_them_all(
    prefix: str, client: redis.Redis
) -> None:
    from mcpwarden.admin.counters import handle_of

    a, b = SessionCounters(), SessionCounters()
    a.observe(request("s1"))
    a.observe(request("s1", "deny"))
    b.observe(request("s2"))
    publish_counters(a, client, prefix, "a", full=True)
    publish_counters(b, client, prefix, "b", full=True)
    counts = read_replica_counters(client, prefix, ["a", "b"])
    assert counts[handle_of("s1")]["requests"] == 2 and counts[handle_of("s1")]["denials"] == 1
    assert counts[handle_of("s2")]["requests"] == 1


def test_an_ended_session_leaves_the_replica_counters(prefix: str, client: redis.Redis) -> None:
    from mcpwarden.admin.counters import handle_of

    a = SessionCounters()
    a.observe(request("s1"))
    publish_counters(a, client, prefix, "a", full=True)
    a.observe({"event": "session.end", "session": "s1"})
    publish_counters(a, client, prefix, "a")
    assert handle_of("s1") not in read_replica_counters(client, prefix, ["a"])


def test_a_replica_counters_expire_unless_it_keeps_publishing(prefix: str, client: redis.Redis) -> None:
    a = SessionCounters()
    a.observe(request("s1"))
    publish_counters(a, client, prefix, "a", full=True)
    ttl = client.ttl(counters_key(prefix, "a"))
    assert 0 < ttl <= 10


def test_a_principal_rate_spent_through_one_replica_is_spent_on_the_other(
    prefix: str, client: redis.Redis
) -> None:
    limits = LimitsConfig(per_principal=RateConfig(rate=0.01, burst=2))
    a = Admission(limits, limiter=RedisTokenBuckets(client, prefix))
    b = Admission(limits, limiter=RedisTokenBuckets(client, prefix))
    who = Principal()
    assert a.http_retry_after(who) == 0.0 and b.http_retry_after(who) == 0.0
    # The HTTP front answers a positive wait with 429 and Retry-After (whole seconds).
    assert b.http_retry_after(who) > 1.0 and a.http_retry_after(who) > 1.0
