"""Token buckets and in-flight counts: burst, sustained rate, Retry-After, bounded memory."""

from __future__ import annotations

import pytest

from mcpwarden.admin.admission import Admission, retry_after_header
from mcpwarden.admin.config import LimitsConfig
from mcpwarden.admin.ratelimit import InFlightCounts, Rate, TokenBuckets
from mcpwarden.types import Denied, Principal


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_is_allowed_at_once_then_the_bucket_is_empty() -> None:
    clock = Clock()
    buckets = TokenBuckets(clock=clock)
    limit = Rate(rate=1.0, burst=3)
    assert [buckets.acquire("k", limit) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.acquire("k", limit) == pytest.approx(1.0)


def test_tokens_refill_at_the_sustained_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(clock=clock)
    limit = Rate(rate=2.0, burst=1)
    assert buckets.acquire("k", limit) == 0.0
    assert buckets.acquire("k", limit) == pytest.approx(0.5)
    clock.now += 0.5
    assert buckets.acquire("k", limit) == 0.0


def test_refill_never_exceeds_the_burst() -> None:
    clock = Clock()
    buckets = TokenBuckets(clock=clock)
    limit = Rate(rate=10.0, burst=2)
    buckets.acquire("k", limit)
    clock.now += 3600
    assert [buckets.acquire("k", limit) for _ in range(3)][2] > 0


def test_keys_have_separate_buckets() -> None:
    buckets = TokenBuckets(clock=Clock())
    limit = Rate(rate=1.0, burst=1)
    assert buckets.acquire("a", limit) == 0.0
    assert buckets.acquire("b", limit) == 0.0
    assert buckets.acquire("a", limit) > 0


def test_tracked_keys_are_bounded() -> None:
    buckets = TokenBuckets(max_keys=100, clock=Clock())
    for n in range(1000):
        buckets.acquire(f"k{n}", Rate(1.0, 1))
    assert len(buckets) == 100


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(2.2) == "3"


def test_in_flight_counts_refuse_over_the_cap_and_free_on_leave() -> None:
    counts = InFlightCounts()
    assert counts.enter("s", 2) and counts.enter("s", 2)
    assert not counts.enter("s", 2)
    counts.leave("s")
    assert counts.enter("s", 2)
    counts.leave("s")
    counts.leave("s")
    assert counts.current("s") == 0


def test_admission_per_principal_concurrency_frees_the_session_slot_when_refused() -> None:
    limits = LimitsConfig(max_concurrent_per_session=5, max_concurrent_per_principal=1)
    audit: list[tuple[str, dict[str, object]]] = []
    admission = Admission(limits, audit=lambda event, **f: audit.append((event, f)))
    alice = Principal("alice")
    assert admission.enter("s1", alice, {})
    with pytest.raises(Denied) as info:
        admission.enter("s2", alice, {"session": "s2"})
    assert info.value.decision.reason == "concurrency.principal"
    assert audit[-1][0] == "decision" and audit[-1][1]["guard"] == "concurrency"
    admission.leave("s1", alice)
    assert admission.enter("s2", alice, {})


def test_admission_tool_override_by_upstream_and_name() -> None:
    limits = LimitsConfig.model_validate({"tools": {"files/write": {"rate": 0.001, "burst": 1}}})
    admission = Admission(limits)
    bob = Principal("bob")
    admission.check_call("s", bob, "files", "write", {})
    admission.check_call("s", bob, "files", "read", {})
    admission.check_call("s", bob, "files", "read", {})
    with pytest.raises(Denied) as info:
        admission.check_call("s", bob, "files", "write", {})
    assert info.value.decision.reason == "rate.tool"
    assert info.value.decision.details is not None and info.value.decision.details["retry_after"] > 0
