"""jsonrpc.problem: nesting depth and malformed cancellations, refused before any use."""

from __future__ import annotations

from typing import Any

import pytest

from mcpwarden.gateway import jsonrpc


def _nested(levels: int, container: str = "dict") -> Any:
    value: Any = {} if container == "dict" else []
    for _ in range(levels - 1):
        value = {"a": value} if container == "dict" else [value]
    return value


@pytest.mark.parametrize("container", ["dict", "list"])
def test_depth_at_the_limit_passes_and_one_more_level_does_not(container: str) -> None:
    assert not jsonrpc.nesting_depth_exceeds(_nested(jsonrpc.MAX_DEPTH, container))
    assert jsonrpc.nesting_depth_exceeds(_nested(jsonrpc.MAX_DEPTH + 1, container))


def test_depth_counts_the_deepest_branch_not_the_first() -> None:
    msg = {"shallow": [1, 2], "deep": _nested(jsonrpc.MAX_DEPTH)}
    assert jsonrpc.nesting_depth_exceeds(msg)


def test_scalars_and_wide_shallow_messages_are_not_too_deep() -> None:
    assert not jsonrpc.nesting_depth_exceeds("text")
    assert not jsonrpc.nesting_depth_exceeds({"items": [{"n": i} for i in range(10_000)]})


def test_problem_names_a_deep_message_too_deep() -> None:
    msg = {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": _nested(200)}
    reason, _ = jsonrpc.problem(msg) or ("", "")
    assert reason == "jsonrpc.too_deep"


@pytest.mark.parametrize("request_id", [[1], {"id": 1}, None, 1.5, True])
def test_problem_refuses_a_cancellation_without_a_usable_request_id(request_id: Any) -> None:
    msg = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": request_id}}
    reason, _ = jsonrpc.problem(msg) or ("", "")
    assert reason == "jsonrpc.invalid"


@pytest.mark.parametrize("request_id", [7, "abc"])
def test_problem_accepts_a_cancellation_naming_a_string_or_integer_id(request_id: Any) -> None:
    msg = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": request_id}}
    assert jsonrpc.problem(msg) is None


def test_request_id_of_gives_only_valid_ids() -> None:
    assert jsonrpc.request_id_of({"id": 3}) == 3
    assert jsonrpc.request_id_of({"id": [3]}) is None
    assert jsonrpc.request_id_of([{"id": 3}]) is None
