"""The fixture provider itself issues what the auth tests rely on."""

from __future__ import annotations

import base64
import json

RESOURCE = "https://gw.example/mcp"


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_client_credentials_token_is_a_jwt_for_the_resource(oidc_provider) -> None:
    claims = _claims(oidc_provider.client_credentials(RESOURCE))
    assert claims["aud"] == RESOURCE
    assert claims["iss"] == oidc_provider.issuer


def test_authorization_code_with_pkce_yields_user_token(oidc_provider) -> None:
    body = oidc_provider.authorization_code("alice", RESOURCE)
    claims = _claims(body["access_token"])
    assert claims["sub"] == "alice"
    assert claims["aud"] == RESOURCE
    assert "mcp.admin" in claims["roles"]


def test_token_exchange_yields_token_for_upstream(oidc_provider) -> None:
    subject = oidc_provider.authorization_code("bob", RESOURCE)["access_token"]
    body = oidc_provider.token_exchange(subject, "https://upstream.example/mcp", scope="mcp:tools")
    claims = _claims(body["access_token"])
    assert claims["aud"] == "https://upstream.example/mcp"
    assert claims["sub"] == "bob"
    assert claims["act"] == {"sub": "gateway-client"}
