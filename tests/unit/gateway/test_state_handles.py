"""State handles are bound to the principal that received them; another principal is refused."""

from __future__ import annotations

import asyncio
from typing import Any

from mcpwarden.guards.state_handles import StateHandleGuard
from mcpwarden.types import Decision, Exchange, Principal

ALICE = Principal("alice")
BOB = Principal("bob")


def _ex(principal: Principal, upstream: str = "shop", session: str = "s1") -> Exchange:
    return Exchange("tools/call", upstream, principal, session, tool="t")


def _mint(guard: StateHandleGuard, principal: Principal, structured: Any, **kw: Any) -> Decision | None:
    return asyncio.run(
        guard.tool_result(_ex(principal, **kw), {"content": [], "structuredContent": structured})
    )


def _use(guard: StateHandleGuard, principal: Principal, handle: Any, **kw: Any) -> Decision | None:
    return asyncio.run(guard.tool_call(_ex(principal, **kw), {"name": "t", "arguments": {"cart_id": handle}}))


def _guard(**kw: Any) -> StateHandleGuard:
    return StateHandleGuard({"shop": frozenset({"cart_id"})}, **kw)


def test_the_receiving_principal_may_present_its_handle() -> None:
    guard = _guard()
    assert _mint(guard, ALICE, {"cart_id": "c1"}) is None
    assert _use(guard, ALICE, "c1") is None


def test_another_principal_presenting_the_handle_is_denied() -> None:
    guard = _guard()
    _mint(guard, ALICE, {"cart_id": "c1"})
    decision = _use(guard, BOB, "c1")
    assert decision is not None and decision.kind == "deny" and decision.reason == "state_handle.foreign"


def test_a_handle_one_level_down_is_bound_too() -> None:
    guard = _guard()
    _mint(guard, ALICE, {"cart": {"cart_id": "c2"}})
    assert _use(guard, BOB, "c2") is not None


def test_a_handle_the_gateway_never_saw_passes() -> None:
    assert _use(_guard(), BOB, "unknown") is None


def test_an_upstream_reissuing_a_handle_to_another_principal_is_flagged_and_keeps_its_owner() -> None:
    guard = _guard()
    _mint(guard, ALICE, {"cart_id": "c1"})
    decision = _mint(guard, BOB, {"cart_id": "c1"})
    assert decision is not None and decision.kind == "alert" and decision.reason == "state_handle.reissued"
    assert _use(guard, BOB, "c1") is not None


def test_per_session_upstreams_bind_handles_within_their_session_only() -> None:
    guard = _guard(per_session=frozenset({"shop"}))
    _mint(guard, ALICE, {"cart_id": "c1"}, session="a")
    assert _mint(guard, BOB, {"cart_id": "c1"}, session="b") is None
    assert _use(guard, BOB, "c1", session="b") is None
    assert _use(guard, BOB, "c1", session="a") is not None


def test_other_upstreams_and_arguments_are_not_judged() -> None:
    guard = _guard()
    _mint(guard, ALICE, {"cart_id": "c1"})
    assert _use(guard, BOB, "c1", upstream="other") is None


def test_bindings_are_bounded_oldest_first() -> None:
    guard = _guard(capacity=2)
    for handle in ("c1", "c2", "c3"):
        _mint(guard, ALICE, {"cart_id": handle})
    assert _use(guard, BOB, "c1") is None
    assert _use(guard, BOB, "c3") is not None
