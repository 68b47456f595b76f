"""The gateway's requestState (HMAC-protected, bound to principal and request, expiring) and the
calls held for input behind it (single use, bounded per principal and in time)."""

from __future__ import annotations

import pytest

from mcpwarden.gateway.channel import Channel
from mcpwarden.gateway.input_required import HeldCalls, answers_for
from mcpwarden.gateway.request_state import RequestStateCodec, StateRefused, request_digest

KEY = b"k" * 32
PARAMS = {"name": "confirm_action", "arguments": {"action": "deploy"}}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _codec(clock: Clock, key: bytes = KEY) -> RequestStateCodec:
    return RequestStateCodec(key, ttl_s=60, clock=clock)


def _seal(codec: RequestStateCodec, principal: str = "alice") -> str:
    state, _ = codec.seal(handle="h1", principal=principal, digest=request_digest("tools/call", PARAMS))
    return state


def _refusal(
    codec: RequestStateCodec, state: object, principal: str = "alice", params: dict | None = None
) -> str:  # type: ignore[type-arg]
    with pytest.raises(StateRefused) as info:
        codec.open(state, principal=principal, digest=request_digest("tools/call", params or PARAMS))
    return info.value.reason


def test_a_sealed_state_opens_for_its_principal_and_request() -> None:
    codec = _codec(Clock())
    opened = codec.open(_seal(codec), principal="alice", digest=request_digest("tools/call", PARAMS))
    assert opened.handle == "h1"


def test_the_retry_fields_do_not_change_the_request_digest() -> None:
    retried = {**PARAMS, "inputResponses": {"input-1": {}}, "requestState": "x", "_meta": {"a": 1}}
    assert request_digest("tools/call", retried) == request_digest("tools/call", PARAMS)


def test_a_changed_claim_fails_the_integrity_check() -> None:
    codec = _codec(Clock())
    prefix, _, tag = _seal(codec).split(".")
    other = _seal(_codec(Clock()), principal="mallory").split(".")[1]
    assert _refusal(codec, f"{prefix}.{other}.{tag}") == "state.tampered"


def test_a_state_sealed_with_another_key_is_refused() -> None:
    foreign = _seal(_codec(Clock(), key=b"z" * 32))
    assert _refusal(_codec(Clock()), foreign) == "state.tampered"


def test_a_state_is_refused_after_its_expiry() -> None:
    clock = Clock()
    codec = _codec(clock)
    state = _seal(codec)
    clock.now += 61
    assert _refusal(codec, state) == "state.expired"


def test_a_state_is_refused_for_another_principal() -> None:
    codec = _codec(Clock())
    assert _refusal(codec, _seal(codec), principal="mallory") == "state.principal"


def test_a_state_is_refused_with_different_arguments() -> None:
    codec = _codec(Clock())
    other = {"name": "confirm_action", "arguments": {"action": "rm -rf"}}
    assert _refusal(codec, _seal(codec), params=other) == "state.request"


@pytest.mark.parametrize(
    "state", [None, 42, "", "mw1", "mw1..", "xx.a.b", "mw1.!!!.tag", "mw1." + "a" * 5000]
)
def test_malformed_states_are_refused(state: object) -> None:
    assert _refusal(_codec(Clock()), state) in {"state.malformed", "state.tampered"}


def test_a_short_key_is_rejected() -> None:
    with pytest.raises(ValueError):
        RequestStateCodec(b"short", ttl_s=60)


def _hold(held: HeldCalls, principal: str = "alice", endpoint: str = "/mcp") -> tuple[dict, object]:  # type: ignore[type-arg]
    request = {"jsonrpc": "2.0", "id": "feat-1", "method": "elicitation/create", "params": {"message": "ok?"}}
    result, call, _ = held.hold(
        principal=principal,
        endpoint=endpoint,
        internal_id="a#1",
        channel=Channel("a#1"),
        method="tools/call",
        params=PARAMS,
        requests={"feat-1": request},
    )
    return result, call


def test_held_call_result_embeds_the_server_request_and_a_state() -> None:
    held = HeldCalls(_codec(Clock()), max_per_principal=4)
    result, _ = _hold(held)
    assert result["resultType"] == "input_required"
    assert result["inputRequests"] == {
        "input-1": {"method": "elicitation/create", "params": {"message": "ok?"}}
    }
    assert result["requestState"].startswith("mw1.")


def test_a_held_call_resumes_once() -> None:
    held = HeldCalls(_codec(Clock()), max_per_principal=4)
    result, call = _hold(held)
    kwargs = {"principal": "alice", "endpoint": "/mcp", "method": "tools/call", "params": PARAMS}
    assert held.resume(result["requestState"], **kwargs) is call
    with pytest.raises(StateRefused) as info:
        held.resume(result["requestState"], **kwargs)
    assert info.value.reason == "state.replayed"


def test_a_held_call_does_not_resume_on_another_endpoint() -> None:
    held = HeldCalls(_codec(Clock()), max_per_principal=4)
    result, _ = _hold(held)
    with pytest.raises(StateRefused) as info:
        held.resume(
            result["requestState"], principal="alice", endpoint="/other", method="tools/call", params=PARAMS
        )
    assert info.value.reason == "state.request"


def test_the_oldest_held_call_of_a_principal_gives_way_beyond_the_bound() -> None:
    held = HeldCalls(_codec(Clock()), max_per_principal=2)
    _, first = _hold(held)
    _hold(held)
    _hold(held, principal="bob")
    _, _, evicted = held.hold(
        principal="alice",
        endpoint="/mcp",
        internal_id="a#9",
        channel=Channel("a#9"),
        method="tools/call",
        params=PARAMS,
        requests={"feat-9": {"id": "feat-9", "method": "roots/list"}},
    )
    assert evicted == [first]
    assert len(held) == 3


def test_expired_held_calls_are_taken_out() -> None:
    clock = Clock()
    held = HeldCalls(_codec(clock), max_per_principal=4)
    _, call = _hold(held)
    assert held.expired() == []
    clock.now += 61
    assert held.expired() == [call]
    assert len(held) == 0


def test_answers_map_input_responses_to_the_upstream_request_ids() -> None:
    held = HeldCalls(_codec(Clock()), max_per_principal=4)
    _, call = _hold(held)
    answers = answers_for(call, {"input-1": {"action": "accept", "content": {"confirm": True}}})  # type: ignore[arg-type]
    assert answers == [
        {"jsonrpc": "2.0", "id": "feat-1", "result": {"action": "accept", "content": {"confirm": True}}}
    ]
    assert isinstance(answers_for(call, {}), str)  # type: ignore[arg-type]
    assert isinstance(answers_for(call, "nope"), str)  # type: ignore[arg-type]
