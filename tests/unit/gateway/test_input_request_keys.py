"""Input requests bridged from a 2026-07-28 upstream keep the upstream's keys and arrive together.

The bridge (`gateway/upstream/stateless.py`) turns one InputRequiredResult into server requests
marked with `INPUT_KEY_META`; the stateless front gathers them into one InputRequiredResult of its
own under the upstream's keys (the conformance scenarios `input-required-result-basic-elicitation`
and `-multiple-input-requests` check exactly that). Requests without the mark keep `input-N`."""

from __future__ import annotations

from typing import Any

from mcpwarden.gateway.channel import Channel
from mcpwarden.gateway.input_required import INPUT_KEY_META, MAX_BATCH, HeldCalls, answers_for, input_key
from mcpwarden.gateway.request_state import RequestStateCodec

JSON = dict[str, Any]


def _ask(gw_id: str, method: str, mark: JSON | None = None, **params: Any) -> JSON:
    if mark is not None:
        params["_meta"] = {INPUT_KEY_META: mark, "other": 1}
    return {"jsonrpc": "2.0", "id": gw_id, "method": method, "params": params}


def _hold(requests: dict[str, JSON]) -> tuple[JSON, Any]:
    held = HeldCalls(RequestStateCodec(b"k" * 32, ttl_s=60), max_per_principal=4)
    result, call, _ = held.hold(
        principal="p",
        endpoint="/mcp",
        internal_id="i#1",
        channel=Channel(client_id=1),
        method="tools/call",
        params={"name": "t"},
        requests=requests,
    )
    return result, call


def test_marked_request_reports_its_key_and_batch_size() -> None:
    assert input_key(_ask("a", "roots/list", {"key": "client_roots", "count": 3})) == ("client_roots", 3)


def test_unmarked_request_counts_as_a_batch_of_one() -> None:
    assert input_key(_ask("a", "roots/list")) == (None, 1)


def test_implausible_batch_size_counts_as_one() -> None:
    for count in (0, -2, MAX_BATCH + 1, "3"):
        assert input_key(_ask("a", "roots/list", {"key": "k", "count": count}))[1] == 1


def test_held_call_answers_under_the_upstream_keys_without_the_mark() -> None:
    result, _ = _hold(
        {
            "up-1": _ask("up-1", "elicitation/create", {"key": "user_name", "count": 2}, message="Name?"),
            "up-2": _ask("up-2", "roots/list", {"key": "client_roots", "count": 2}),
        }
    )
    assert result["inputRequests"] == {
        "user_name": {"method": "elicitation/create", "params": {"message": "Name?", "_meta": {"other": 1}}},
        "client_roots": {"method": "roots/list", "params": {"_meta": {"other": 1}}},
    }


def test_unmarked_requests_are_numbered() -> None:
    result, _ = _hold({"up-1": _ask("up-1", "roots/list")})
    assert list(result["inputRequests"]) == ["input-1"]


def test_a_key_given_twice_falls_back_to_a_number() -> None:
    mark = {"key": "same", "count": 2}
    result, _ = _hold({"up-1": _ask("up-1", "roots/list", mark), "up-2": _ask("up-2", "roots/list", mark)})
    assert list(result["inputRequests"]) == ["same", "input-2"]


def test_answers_go_to_the_server_request_each_key_stands_for() -> None:
    _, call = _hold(
        {
            "up-1": _ask("up-1", "roots/list", {"key": "a", "count": 2}),
            "up-2": _ask("up-2", "roots/list", {"key": "b", "count": 2}),
        }
    )
    answers = answers_for(call, {"b": {"roots": []}, "a": {"roots": [{"uri": "file:///x"}]}})
    assert answers == [
        {"jsonrpc": "2.0", "id": "up-1", "result": {"roots": [{"uri": "file:///x"}]}},
        {"jsonrpc": "2.0", "id": "up-2", "result": {"roots": []}},
    ]
