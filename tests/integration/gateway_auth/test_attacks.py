"""Attacks on the gateway's authentication, each through the real gateway process.

Every attack must fail with the right HTTP status and leave an audit record naming why.
Valid tokens come from the real OIDC provider; forgeries are built as described in
conftest.py.
"""

from __future__ import annotations

import hmac
import json
import time
from typing import Any

import httpx
import pytest
from gwauth_kit import Keys, audited, b64, bearer, claims_for, reason_of, segments
from joserfc import jws
from joserfc.jwk import RSAKey, import_key

from gwtest.procs import Gateway
from gwtest.raw import init_body, open_session, post

pytestmark = pytest.mark.integration


def _rejected(gw: Gateway, resp: httpx.Response, status: int, reason: str) -> None:
    assert resp.status_code == status, resp.text
    assert reason_of(resp) == reason
    assert audited(gw, reason, "rejected"), f"no audit record for {reason}"


def _invalid_token_challenge(resp: httpx.Response) -> None:
    challenge = resp.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge


def test_rejects_request_without_token(gw: Gateway, client: httpx.Client) -> None:
    r = post(client, gw.url("feat"), init_body())
    _rejected(gw, r, 401, "auth.missing")
    assert "error=" not in r.headers["www-authenticate"]


def test_rejects_token_with_alg_none(gw: Gateway, client: httpx.Client, oidc_provider: Any) -> None:
    header, claims = segments(oidc_provider.client_credentials(gw.url("feat")))
    forged = f"{b64(json.dumps({**header, 'alg': 'none'}).encode())}.{b64(json.dumps(claims).encode())}."
    r = post(client, gw.url("feat"), init_body(), **bearer(forged))
    _rejected(gw, r, 401, "token.alg")
    _invalid_token_challenge(r)


def test_rejects_hs256_signed_with_the_rsa_public_key(
    gw: Gateway, client: httpx.Client, oidc_provider: Any
) -> None:
    public_pem = import_key(oidc_provider.jwks()["keys"][0]).as_pem(private=False)
    header, claims = segments(oidc_provider.client_credentials(gw.url("feat")))
    forged_header = b64(json.dumps({**header, "alg": "HS256"}).encode())
    signing_input = f"{forged_header}.{b64(json.dumps(claims).encode())}"
    forged = f"{signing_input}.{b64(hmac.new(public_pem, signing_input.encode(), 'sha256').digest())}"
    r = post(client, gw.url("feat"), init_body(), **bearer(forged))
    _rejected(gw, r, 401, "token.alg")


def test_rejects_token_signed_with_unknown_kid(gw: Gateway, client: httpx.Client, oidc_provider: Any) -> None:
    attacker = RSAKey.generate_key(2048, parameters={"kid": "attacker-kid"})
    claims = claims_for(oidc_provider.issuer, gw.url("feat"))
    forged = jws.serialize_compact(
        {"alg": "RS256", "kid": "attacker-kid", "typ": "at+jwt"}, json.dumps(claims).encode(), attacker
    )
    r = post(client, gw.url("feat"), init_body(), **bearer(forged))
    _rejected(gw, r, 401, "token.kid")


def test_rejects_token_from_wrong_issuer(gw: Gateway, client: httpx.Client, keys: Keys) -> None:
    token = keys.sign(claims_for("https://evil-idp.example.test", gw.url("feat")))
    r = post(client, gw.url("feat"), init_body(), **bearer(token))
    _rejected(gw, r, 401, "token.issuer")


def test_rejects_token_for_another_resource(gw: Gateway, client: httpx.Client, oidc_provider: Any) -> None:
    token = oidc_provider.client_credentials("https://other-service.example.test/mcp")
    r = post(client, gw.url("feat"), init_body(), **bearer(token))
    _rejected(gw, r, 401, "token.audience")


def test_rejects_audience_list_naming_other_resources_in_strict_mode(
    gw: Gateway, client: httpx.Client, oidc_provider: Any, keys: Keys
) -> None:
    audience = [gw.url("feat"), "https://other.example/api"]
    token = keys.sign(claims_for(oidc_provider.issuer, audience))
    r = post(client, gw.url("feat"), init_body(), **bearer(token))
    _rejected(gw, r, 401, "token.audience_extra")


def test_rejects_expired_token(gw: Gateway, client: httpx.Client, oidc_provider: Any, keys: Keys) -> None:
    now = int(time.time())
    token = keys.sign(claims_for(oidc_provider.issuer, gw.url("feat"), iat=now - 600, exp=now - 60))
    r = post(client, gw.url("feat"), init_body(), **bearer(token))
    _rejected(gw, r, 401, "token.expired")


def test_rejects_token_not_yet_valid(
    gw: Gateway, client: httpx.Client, oidc_provider: Any, keys: Keys
) -> None:
    token = keys.sign(claims_for(oidc_provider.issuer, gw.url("feat"), nbf=int(time.time()) + 600))
    r = post(client, gw.url("feat"), init_body(), **bearer(token))
    _rejected(gw, r, 401, "token.not_yet_valid")


def test_rejects_token_without_exp(gw: Gateway, client: httpx.Client, oidc_provider: Any, keys: Keys) -> None:
    token = keys.sign(claims_for(oidc_provider.issuer, gw.url("feat"), exp=None))
    r = post(client, gw.url("feat"), init_body(), **bearer(token))
    _rejected(gw, r, 401, "token.exp_missing")


def test_rejects_token_for_one_upstream_endpoint_replayed_at_another(
    gw: Gateway, client: httpx.Client, oidc_provider: Any
) -> None:
    token = oidc_provider.authorization_code("bob", gw.url("feat"))["access_token"]
    assert post(client, gw.url("feat"), init_body(), **bearer(token)).status_code == 200
    r = post(client, gw.url("other"), init_body(), **bearer(token))
    _rejected(gw, r, 401, "token.audience")


def test_rejects_token_in_query_string(gw: Gateway, client: httpx.Client, oidc_provider: Any) -> None:
    token = oidc_provider.client_credentials(gw.url("feat"))
    r = post(client, f"{gw.url('feat')}?access_token={token}", init_body())
    _rejected(gw, r, 400, "token.in_query")
    assert token not in gw.log_path.read_text() and token not in gw.audit_path.read_text()


def test_rejects_client_chosen_session_id(gw: Gateway, client: httpx.Client, oidc_provider: Any) -> None:
    token = oidc_provider.client_credentials(gw.url("feat"))
    r = post(
        client,
        gw.url("feat"),
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        **bearer(token),
        **{"mcp-session-id": "session-chosen-by-the-client"},
    )
    _rejected(gw, r, 404, "session.unknown")


def test_rejects_initialize_that_proposes_its_own_session_id(
    gw: Gateway, client: httpx.Client, oidc_provider: Any
) -> None:
    token = oidc_provider.client_credentials(gw.url("feat"))
    r = post(client, gw.url("feat"), init_body(), **bearer(token), **{"mcp-session-id": "fixation-attempt"})
    _rejected(gw, r, 400, "session.initialize_with_id")


def test_rejects_user_a_session_presented_with_user_b_token(
    gw: Gateway, client: httpx.Client, oidc_provider: Any
) -> None:
    alice = oidc_provider.authorization_code("alice", gw.url("feat"))["access_token"]
    bob = oidc_provider.authorization_code("bob", gw.url("feat"))["access_token"]
    client.headers.update(bearer(alice))
    sid = open_session(client, gw.url("feat"))
    client.headers.update(bearer(bob))
    r = post(
        client,
        gw.url("feat"),
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        **{"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"},
    )
    _rejected(gw, r, 404, "session.unknown")
    alerts = audited(gw, "session.principal_mismatch", "alert")
    assert alerts and alerts[-1]["principal"] == f"{oidc_provider.issuer}|bob|mcp-public-client"


def test_rejects_foreign_origin_even_with_valid_token(
    gw: Gateway, client: httpx.Client, oidc_provider: Any
) -> None:
    token = oidc_provider.client_credentials(gw.url("feat"))
    r = post(client, gw.url("feat"), init_body(), origin="http://evil.example.com", **bearer(token))
    _rejected(gw, r, 403, "transport.bad_origin")


def test_rejects_rebinding_host_even_with_valid_token(
    gw: Gateway, client: httpx.Client, oidc_provider: Any
) -> None:
    token = oidc_provider.client_credentials(gw.url("feat"))
    r = post(client, gw.url("feat"), init_body(), host="attacker.example.com", **bearer(token))
    _rejected(gw, r, 421, "transport.bad_host")


def test_forged_forwarded_headers_from_untrusted_peer_do_not_change_the_audience(
    gw: Gateway, client: httpx.Client, oidc_provider: Any
) -> None:
    # A token minted for the URL the gateway would believe it has if it trusted the headers.
    spoofed = gw.url("feat").replace("http://", "https://")
    token = oidc_provider.client_credentials(spoofed)
    forged = {
        "x-forwarded-proto": "https",
        "x-forwarded-host": spoofed.split("/")[2],
        "x-forwarded-for": "10.0.0.1",
    }
    r = post(client, gw.url("feat"), init_body(), **forged, **bearer(token))
    _rejected(gw, r, 401, "token.audience")
    assert (
        f'resource_metadata="{gw.base}/.well-known/oauth-protected-resource/servers/feat/mcp"'
        in (r.headers["www-authenticate"])
    )
