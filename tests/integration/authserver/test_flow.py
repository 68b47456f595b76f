"""The gateway as authorization server, end to end over HTTP: metadata, DCR, sign-in at the
real IdP, consent, the third party, the code and token exchange, and the resource server
accepting what was issued. Browser steps are driven by `as_kit.Browser` (Chromium's own run
is in test_browser_consent.py)."""

from __future__ import annotations

import json

import httpx
import pytest
from as_kit import Browser, Pkce, authorize_params, mcp_initialize, redeem, register_client, run_authorization
from as_stack import Stack, authorized, forget_third_party_tokens, recorded_bearers, userinfo_subject

pytestmark = pytest.mark.integration

REDIRECT = "http://127.0.0.1:9/cb"


def test_metadata_is_rfc8414_with_s256_only_and_the_iss_parameter(as_stack: Stack) -> None:
    doc = httpx.get(f"{as_stack.base}/.well-known/oauth-authorization-server").json()
    assert doc["issuer"] == as_stack.base
    assert doc["authorization_endpoint"] == f"{as_stack.base}/authorize"
    assert doc["token_endpoint"] == f"{as_stack.base}/token"
    assert doc["registration_endpoint"] == f"{as_stack.base}/register"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert doc["client_id_metadata_document_supported"] is True


def test_protected_resource_metadata_names_the_gateway_as_authorization_server(as_stack: Stack) -> None:
    doc = httpx.get(f"{as_stack.base}/.well-known/oauth-protected-resource/servers/rec/mcp").json()
    assert doc["authorization_servers"] == [as_stack.base]


def test_code_flow_returns_state_and_iss_and_an_audience_bound_token(as_stack: Stack) -> None:
    client = register_client(as_stack.base, [REDIRECT])
    pkce = Pkce()
    params = authorize_params(client, REDIRECT, pkce, resource=as_stack.resource("rec"))
    browser = Browser()
    query, _ = run_authorization(browser, as_stack.base, params)
    assert query["state"] == [params["state"]] and query["iss"] == [as_stack.base]
    token = redeem(as_stack.base, client, query["code"][0], REDIRECT, pkce, as_stack.resource("rec")).json()
    assert token["token_type"] == "Bearer" and token["refresh_token"]
    accepted = mcp_initialize(as_stack.resource("rec"), token["access_token"])
    elsewhere = mcp_initialize(as_stack.resource(), token["access_token"])
    assert accepted.status_code == 200, accepted.text
    assert elsewhere.status_code == 401 and elsewhere.json()["error"]["data"]["reason"] == "token.audience"


def test_a_token_response_says_no_store_exactly_once(as_stack: Stack) -> None:
    """authlib's `Cache-Control` and the gateway's own once went out side by side, which the
    conformance suite's client reads as `no-store,no-store` and refuses."""
    client = register_client(as_stack.base, [REDIRECT])
    pkce = Pkce()
    params = authorize_params(client, REDIRECT, pkce, resource=as_stack.resource("rec"))
    browser = Browser()
    try:
        query, _ = run_authorization(browser, as_stack.base, params)
    finally:
        browser.close()
    token = redeem(as_stack.base, client, query["code"][0], REDIRECT, pkce, as_stack.resource("rec"))
    assert token.status_code == 200, token.text
    assert token.headers.get_list("cache-control") == ["no-store"]
    assert token.headers.get_list("pragma") == ["no-cache"]


def test_the_users_third_party_token_reaches_the_upstream_and_never_the_client(as_stack: Stack) -> None:
    forget_third_party_tokens(as_stack, "alice")
    _, token = authorized(as_stack, "alice")
    before = len(recorded_bearers(as_stack))
    assert mcp_initialize(as_stack.resource("rec"), str(token["access_token"])).status_code == 200
    sent = recorded_bearers(as_stack)[before:]
    assert sent and {userinfo_subject(as_stack, t) for t in set(sent)} == {"alice"}
    third_party_token = sent[-1]
    assert third_party_token not in json.dumps(token)
    assert third_party_token not in as_stack.gateway.audit_path.read_text()
    assert third_party_token not in as_stack.gateway.log_path.read_text()


def test_refresh_rotates_the_refresh_token(as_stack: Stack) -> None:
    client, token = authorized(as_stack, "alice")
    first = httpx.post(
        f"{as_stack.base}/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": client},
    )
    assert first.status_code == 200, first.text
    assert first.json()["refresh_token"] != token["refresh_token"]
    assert mcp_initialize(as_stack.resource("rec"), first.json()["access_token"]).status_code == 200


def test_revocation_ends_the_refresh_token(as_stack: Stack) -> None:
    client, token = authorized(as_stack, "alice")
    revoked = httpx.post(
        f"{as_stack.base}/revoke",
        data={"token": token["refresh_token"], "token_type_hint": "refresh_token", "client_id": client},
    )
    refresh = httpx.post(
        f"{as_stack.base}/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": client},
    )
    assert revoked.status_code == 200
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


def test_a_second_authorization_with_the_same_consent_skips_the_page(as_stack: Stack) -> None:
    client = register_client(as_stack.base, [REDIRECT])
    browser = Browser()
    resource = as_stack.resource("rec")
    _, first_page = run_authorization(
        browser, as_stack.base, authorize_params(client, REDIRECT, Pkce(), resource=resource)
    )
    _, second_page = run_authorization(
        browser, as_stack.base, authorize_params(client, REDIRECT, Pkce(), resource=resource)
    )
    assert first_page is not None and second_page is None
