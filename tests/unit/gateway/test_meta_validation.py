"""Per-request checks of the 2026-07-28 era: era detection, `_meta`, and mirrored headers."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from mcpwarden.gateway.discover import discover_result, shape_result
from mcpwarden.gateway.era import era_of
from mcpwarden.gateway.http_errors import HttpRejection
from mcpwarden.gateway.meta_validation import (
    annotated_params,
    check_headers,
    check_param_headers,
    upstream_params,
    validate_meta,
)

V = "2026-07-28"


def _meta(**extra: Any) -> dict[str, Any]:
    return {
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": {},
        **extra,
    }


def _msg(method: str = "tools/list", meta: Any = None, **params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 9, "method": method, "params": {**params, "_meta": meta or _meta()}}


def _b64(text: str) -> str:
    return "=?base64?" + base64.b64encode(text.encode()).decode() + "?="


@pytest.mark.parametrize("version", [None, "2025-03-26", "2025-06-18", "2025-11-25"])
def test_absent_or_handshake_version_takes_the_handshake_path(version: str | None) -> None:
    assert era_of(version) == "handshake"


def test_stateless_version_takes_the_stateless_path() -> None:
    assert era_of(V) == "stateless"


def test_unknown_version_is_refused_with_the_supported_list_and_the_id() -> None:
    with pytest.raises(HttpRejection) as info:
        era_of("2099-01-01", request_id="r")
    exc = info.value
    assert (exc.status, exc.code, exc.id_) == (400, -32022, "r")
    assert exc.data["requested"] == "2099-01-01" and V in exc.data["supported"]


def test_valid_meta_is_read_with_its_log_level() -> None:
    meta = validate_meta(_msg(meta=_meta(**{"io.modelcontextprotocol/logLevel": "warning"})), V)
    assert meta.wants_log("error") and not meta.wants_log("info")


def test_log_messages_are_opt_in() -> None:
    assert not validate_meta(_msg(), V).wants_log("emergency")


@pytest.mark.parametrize(
    "meta",
    [
        {"io.modelcontextprotocol/clientCapabilities": {}},
        {"io.modelcontextprotocol/protocolVersion": V},
        _meta(**{"io.modelcontextprotocol/clientCapabilities": []}),
        _meta(**{"io.modelcontextprotocol/clientInfo": {"name": 1}}),
        _meta(**{"io.modelcontextprotocol/logLevel": "loud"}),
    ],
)
def test_malformed_meta_is_invalid_params(meta: dict[str, Any]) -> None:
    with pytest.raises(HttpRejection) as info:
        validate_meta(_msg(meta=meta), V)
    assert (info.value.status, info.value.code, info.value.id_) == (400, -32602, 9)


def test_meta_version_other_than_the_header_is_a_mismatch() -> None:
    with pytest.raises(HttpRejection) as info:
        validate_meta(_msg(meta=_meta(**{"io.modelcontextprotocol/protocolVersion": "x"})), V)
    assert info.value.code == -32020


def test_missing_method_header_is_a_mismatch() -> None:
    with pytest.raises(HttpRejection) as info:
        check_headers({}, _msg())
    assert info.value.code == -32020


def test_name_header_may_be_base64_or_padded_with_whitespace() -> None:
    msg = _msg("tools/call", name="grüße")
    check_headers({"mcp-method": "tools/call", "mcp-name": _b64("grüße")}, msg)
    check_headers({"mcp-method": "tools/call", "mcp-name": " echo\t"}, _msg("tools/call", name="echo"))


def test_name_header_of_another_resource_is_a_mismatch() -> None:
    with pytest.raises(HttpRejection) as info:
        check_headers(
            {"mcp-method": "resources/read", "mcp-name": "a://x"}, _msg("resources/read", uri="a://y")
        )
    assert info.value.code == -32020


TOOL = {
    "name": "t",
    "inputSchema": {
        "type": "object",
        "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "priority": {"type": "integer", "x-mcp-header": "Priority"},
            "debug": {"type": "boolean", "x-mcp-header": "Debug"},
            "query": {"type": "string"},
        },
    },
}


def test_annotated_arguments_are_found_by_lower_case_header() -> None:
    assert annotated_params(TOOL) == {
        "region": ("region", "string"),
        "priority": ("priority", "integer"),
        "debug": ("debug", "boolean"),
    }


def test_matching_param_headers_pass_and_unknown_ones_are_ignored() -> None:
    headers = {
        "mcp-param-region": "eu",
        "mcp-param-priority": "3",
        "mcp-param-debug": "true",
        "mcp-param-x": "?",
    }
    check_param_headers(headers, annotated_params(TOOL), {"region": "eu", "priority": 3, "debug": True}, 1)


@pytest.mark.parametrize(
    ("headers", "args"),
    [
        ({"mcp-param-region": "us"}, {"region": "eu"}),
        ({}, {"region": "eu"}),
        ({"mcp-param-priority": "4"}, {"priority": 3}),
        ({"mcp-param-debug": "1"}, {"debug": True}),
        ({"mcp-param-region": "eu"}, {}),
    ],
)
def test_param_header_disagreeing_with_its_argument_is_a_mismatch(
    headers: dict[str, str], args: dict[str, Any]
) -> None:
    with pytest.raises(HttpRejection) as info:
        check_param_headers(headers, annotated_params(TOOL), args, 1)
    assert (info.value.status, info.value.code) == (400, -32020)


def test_client_leg_meta_is_not_forwarded_but_other_meta_is() -> None:
    params = _msg(meta=_meta(progressToken=5))["params"]
    assert upstream_params(params) == {"_meta": {"progressToken": 5}}
    assert upstream_params(_msg()["params"]) == {}


def test_cacheable_results_are_always_private() -> None:
    shaped = shape_result("resources/read", {"contents": [], "cacheScope": "public", "ttlMs": 500})
    assert shaped == {"contents": [], "cacheScope": "private", "ttlMs": 500, "resultType": "complete"}
    assert "cacheScope" not in shape_result("tools/call", {"content": []})


def test_discover_lists_both_eras_and_names_the_server_in_meta() -> None:
    result = discover_result({"capabilities": {"tools": {}}, "serverInfo": {"name": "up", "version": "1"}})
    assert "2025-11-25" in result["supportedVersions"] and V in result["supportedVersions"]
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "up"
