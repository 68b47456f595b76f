"""InFlightQuota: slots per principal, never more than the limit, every release counted once."""

from __future__ import annotations

from mcpwarden.gateway.quota import InFlightQuota


def test_slots_are_granted_up_to_the_limit_per_key() -> None:
    quota = InFlightQuota(2)
    assert quota.try_acquire("a") and quota.try_acquire("a")
    assert not quota.try_acquire("a")
    assert quota.try_acquire("b")
    assert quota.total() == 3


def test_a_released_slot_can_be_taken_again() -> None:
    quota = InFlightQuota(1)
    assert quota.try_acquire("a")
    quota.release("a")
    assert quota.held("a") == 0 and quota.total() == 0
    assert quota.try_acquire("a")


def test_releasing_a_key_that_holds_nothing_changes_nothing() -> None:
    quota = InFlightQuota(1)
    quota.try_acquire("a")
    quota.release("b")
    assert quota.total() == 1 and quota.held("a") == 1
