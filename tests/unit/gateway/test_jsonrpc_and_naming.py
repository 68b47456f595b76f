"""Message classification and the aggregated naming scheme."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.naming import prefix_name, prefix_uri, split_name, split_uri

NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)


@pytest.mark.parametrize(
    ("msg", "kind"),
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "ping"}, "request"),
        ({"jsonrpc": "2.0", "id": "a", "method": "ping"}, "request"),
        ({"jsonrpc": "2.0", "method": "notifications/initialized"}, "notification"),
        ({"jsonrpc": "2.0", "id": 1, "result": {}}, "response"),
        ({"jsonrpc": "2.0", "id": 1, "error": {"code": 1, "message": "x"}}, "response"),
        ({"jsonrpc": "2.0", "id": None, "method": "ping"}, "invalid"),
        ({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}, "invalid"),
        ({"jsonrpc": "2.0", "id": True, "method": "ping"}, "invalid"),
        ({"jsonrpc": "2.0", "method": "tools/list"}, "invalid"),
        ({"jsonrpc": "1.0", "id": 1, "method": "ping"}, "invalid"),
        ({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": "x"}, "invalid"),
        ([], "invalid"),
    ],
)
def test_classify(msg: object, kind: str) -> None:
    assert jsonrpc.classify(msg) == kind


@given(NAMES, st.text(min_size=1))
def test_tool_names_round_trip_whatever_they_contain(upstream: str, name: str) -> None:
    assert split_name(prefix_name(upstream, name)) == (upstream, name)


@given(NAMES, st.text(min_size=1))
def test_uris_round_trip_whatever_they_contain(upstream: str, uri: str) -> None:
    assert split_uri(prefix_uri(upstream, uri)) == (upstream, uri)


def test_unprefixed_names_do_not_split() -> None:
    assert split_name("echo") is None
    assert split_uri("file:///etc/passwd") is None
