"""The project's balancer: who gets a request (no processes; the routing table alone)."""

from __future__ import annotations

import pytest

from mcpwarden.replicas import balancer as lb
from mcpwarden.replicas.balancer import Balancer

A, B, C = "http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"


def test_requests_without_a_session_take_turns() -> None:
    bal = Balancer([A, B, C])
    assert [bal.candidates(None)[0] for _ in range(4)] == [A, B, C, A]


def test_a_known_session_goes_to_the_replica_that_minted_it() -> None:
    bal = Balancer([A, B])
    bal.remember("sid-1", B)
    assert [bal.candidates("sid-1")[0] for _ in range(3)] == [B, B, B]


def test_session_traffic_does_not_skew_the_round_robin() -> None:
    bal = Balancer([A, B])
    bal.remember("sid-1", A)
    first = bal.candidates(None)[0]
    bal.candidates("sid-1")
    bal.candidates("sid-1")
    assert bal.candidates(None)[0] != first


def test_an_unknown_session_is_balanced_like_a_new_request() -> None:
    bal = Balancer([A, B])
    assert sorted(bal.candidates("never-seen")) == [A, B]


def test_a_down_backend_is_tried_last() -> None:
    bal = Balancer([A, B])
    bal._down_until[A] = float("inf")
    assert [bal.candidates(None)[0] for _ in range(2)] == [B, B]


def test_a_session_whose_replica_is_down_still_tries_it_first_then_the_others() -> None:
    bal = Balancer([A, B, C])
    bal.remember("sid", A)
    bal._down_until[A] = float("inf")
    order = bal.candidates("sid")
    assert order[0] == A and sorted(order[1:]) == [B, C]


def test_the_session_table_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lb, "MAX_SESSIONS", 3)
    bal = Balancer([A, B])
    for i in range(5):
        bal.remember(f"s{i}", A)
    assert list(bal._owner) == ["s2", "s3", "s4"]


def test_needs_a_backend() -> None:
    with pytest.raises(ValueError):
        Balancer([])
