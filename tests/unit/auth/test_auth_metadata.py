"""RFC 9728 metadata, WWW-Authenticate challenges, bearer extraction, canonical URIs, scopes."""

from __future__ import annotations

import pytest

from mcpwarden.auth.claims import resolve_claim, roles_from_claims, scopes_from_claims
from mcpwarden.auth.discovery import metadata_urls
from mcpwarden.auth.errors import AuthError
from mcpwarden.auth.metadata import (
    challenge,
    challenge_for,
    extract_bearer,
    metadata_url,
    protected_resource_metadata,
    require_bearer,
    well_known_paths,
)
from mcpwarden.auth.resource import canonical_resource
from mcpwarden.auth.scopes import challenge_scopes, require_scopes

RESOURCE = "https://gw.example.test/servers/x/mcp"
PRM = "https://gw.example.test/.well-known/oauth-protected-resource/servers/x/mcp"


def test_metadata_names_resource_servers_and_header_only_bearer() -> None:
    doc = protected_resource_metadata(RESOURCE, ["https://idp.example.test"], scopes_supported=["mcp:tools"])
    assert doc == {
        "resource": RESOURCE,
        "authorization_servers": ["https://idp.example.test"],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["mcp:tools"],
    }


def test_metadata_resource_is_canonical() -> None:
    doc = protected_resource_metadata("HTTPS://GW.Example.Test:443/servers/x/mcp/", ["https://idp"])
    assert doc["resource"] == RESOURCE


def test_metadata_requires_an_authorization_server() -> None:
    with pytest.raises(ValueError):
        protected_resource_metadata(RESOURCE, [])


def test_well_known_paths_are_path_inserted_then_root() -> None:
    assert well_known_paths(RESOURCE) == [
        "/.well-known/oauth-protected-resource/servers/x/mcp",
        "/.well-known/oauth-protected-resource",
    ]


def test_resource_without_path_has_only_root_well_known() -> None:
    assert well_known_paths("https://gw.example.test/") == ["/.well-known/oauth-protected-resource"]


def test_metadata_url_is_path_inserted() -> None:
    assert metadata_url(RESOURCE) == PRM


def test_challenge_without_credentials_has_no_error_code() -> None:
    assert challenge(PRM, scope=["mcp:tools"]) == f'Bearer resource_metadata="{PRM}", scope="mcp:tools"'


def test_challenge_for_invalid_token_names_error() -> None:
    value = challenge(PRM, error="invalid_token", description="token has expired")
    assert (
        value
        == f'Bearer resource_metadata="{PRM}", error="invalid_token", error_description="token has expired"'
    )


def test_challenge_for_insufficient_scope_names_needed_scopes() -> None:
    error = AuthError(403, "insufficient_scope", "needs write", ["mcp:write"])
    value = challenge_for(error, PRM, default_scope=["mcp:tools"])
    assert 'scope="mcp:write"' in value
    assert 'error="insufficient_scope"' in value


def test_challenge_for_401_uses_baseline_scope() -> None:
    error = AuthError(401, "invalid_token", "bad")
    assert 'scope="mcp:tools"' in challenge_for(error, PRM, default_scope=["mcp:tools"])


def test_challenge_description_cannot_break_out_of_quotes() -> None:
    value = challenge(PRM, error="invalid_token", description='x", error="none\r\nSet-Cookie: a=b')
    assert "\r" not in value and "\n" not in value
    assert value.count('"') == 6


def test_extracts_token_from_authorization_header() -> None:
    assert extract_bearer({"Authorization": "Bearer abc.def-_~+/="}) == "abc.def-_~+/="


def test_bearer_scheme_is_case_insensitive() -> None:
    assert extract_bearer([("authorization", "bEaReR tok")]) == "tok"


def test_no_authorization_header_means_no_credentials() -> None:
    assert extract_bearer({"Accept": "*/*"}) is None


def test_other_scheme_counts_as_no_bearer_credentials() -> None:
    assert extract_bearer({"Authorization": "Basic dXNlcjpwYXNz"}) is None


def test_rejects_token_in_query_string() -> None:
    with pytest.raises(AuthError) as info:
        extract_bearer({}, {"access_token": "abc"})
    assert (info.value.status, info.value.error, info.value.reason) == (
        400,
        "invalid_request",
        "token.in_query",
    )


def test_rejects_token_in_query_even_with_header() -> None:
    with pytest.raises(AuthError):
        extract_bearer({"Authorization": "Bearer abc"}, [("access_token", "abc")])


def test_rejects_two_authorization_headers() -> None:
    with pytest.raises(AuthError) as info:
        extract_bearer([("Authorization", "Bearer a"), ("authorization", "Bearer b")])
    assert info.value.status == 400


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer a b", 'Bearer a"b', "Bearer ===", "Bearer ä"])
def test_rejects_malformed_bearer_values(value: str) -> None:
    with pytest.raises(AuthError) as info:
        extract_bearer({"Authorization": value})
    assert (info.value.status, info.value.error) == (400, "invalid_request")


def test_require_bearer_without_credentials_is_401_without_error() -> None:
    with pytest.raises(AuthError) as info:
        require_bearer({})
    assert (info.value.status, info.value.error) == (401, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("HTTPS://MCP.Example.com/mcp", "https://mcp.example.com/mcp"),
        ("https://mcp.example.com:443/mcp/", "https://mcp.example.com/mcp"),
        ("http://mcp.example.com:8080/mcp#frag", "http://mcp.example.com:8080/mcp"),
        ("https://mcp.example.com/", "https://mcp.example.com"),
        ("api://my-app", "api://my-app"),
        ("6e74172b-be56-4843-9ff4-e66a39bb12e3", "6e74172b-be56-4843-9ff4-e66a39bb12e3"),
    ],
)
def test_canonical_resource(value: str, expected: str) -> None:
    assert canonical_resource(value) == expected


def test_canonical_resource_keeps_paths_distinct() -> None:
    assert canonical_resource("https://gw/u1/mcp") != canonical_resource("https://gw/u2/mcp")


def test_required_strategy_challenges_only_needed_scopes() -> None:
    assert challenge_scopes(["mcp:write"], {"mcp:read", "mcp:tools"}, "required") == ["mcp:write"]


def test_recommended_strategy_keeps_granted_scopes() -> None:
    assert challenge_scopes(["mcp:write"], {"mcp:tools", "mcp:read"}, "recommended") == [
        "mcp:read",
        "mcp:tools",
        "mcp:write",
    ]


def test_require_scopes_passes_when_all_granted() -> None:
    require_scopes({"a", "b"}, ["a"])


def test_require_scopes_raises_403_with_challenge_scopes() -> None:
    with pytest.raises(AuthError) as info:
        require_scopes({"a"}, ["a", "b"], strategy="required")
    assert (info.value.status, info.value.error, info.value.scope) == (403, "insufficient_scope", ["a", "b"])


def test_claim_path_walks_nested_objects() -> None:
    assert resolve_claim({"realm_access": {"roles": ["x"]}}, "realm_access.roles") == [["x"]]


def test_claim_path_prefers_literal_dotted_key() -> None:
    claims = {"https://ns.example/roles": ["r"]}
    assert roles_from_claims(claims, ["https://ns.example/roles"]) == {"r"}


def test_claim_path_wildcard_collects_all_children() -> None:
    claims = {"resource_access": {"a": {"roles": ["x"]}, "b": {"roles": ["y"]}}}
    assert roles_from_claims(claims, ["resource_access.*.roles"]) == {"x", "y"}


def test_scope_string_is_split_but_roles_are_not() -> None:
    claims = {"scope": "a b", "roles": "Role With Spaces"}
    assert scopes_from_claims(claims, ["scope"]) == {"a", "b"}
    assert roles_from_claims(claims, ["roles"]) == {"Role With Spaces"}


def test_non_string_claim_values_are_ignored() -> None:
    assert roles_from_claims({"roles": [1, None, {"x": 1}, "ok"]}, ["roles"]) == {"ok"}


def test_discovery_order_for_issuer_with_path() -> None:
    assert metadata_urls("https://idp.example/t1") == [
        "https://idp.example/.well-known/oauth-authorization-server/t1",
        "https://idp.example/.well-known/openid-configuration/t1",
        "https://idp.example/t1/.well-known/openid-configuration",
    ]


def test_discovery_order_for_issuer_without_path() -> None:
    assert metadata_urls("https://idp.example") == [
        "https://idp.example/.well-known/oauth-authorization-server",
        "https://idp.example/.well-known/openid-configuration",
    ]
