"""Upstream credentials against the real provider: the client's token never goes upstream."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from mcpwarden.auth.config import AuthConfig, UpstreamCredentials
from mcpwarden.auth.errors import AuthError
from mcpwarden.auth.tokens import TokenValidator
from mcpwarden.auth.upstream import UpstreamAuth, build_upstream_auth, contains_token

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

GATEWAY = "https://gw.example.test/mcp"
UPSTREAM = "https://upstream.example.test/mcp"


def _provider(oidc_provider: Any, data: dict[str, Any]) -> UpstreamAuth:
    config = TypeAdapter(UpstreamCredentials).validate_python(data)
    return build_upstream_auth(config, default_issuer=oidc_provider.issuer)


def _oauth(oidc_provider: Any, mode: str) -> dict[str, Any]:
    return {
        "mode": mode,
        "client_id": oidc_provider.gateway.client_id,
        "client_secret": "env:MCPW_TEST_GW_SECRET",
        "resource": UPSTREAM,
        "scope": ["mcp:tools"],
    }


@pytest.fixture
def secrets_env(oidc_provider: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCPW_TEST_GW_SECRET", oidc_provider.gateway.client_secret)
    monkeypatch.setenv("MCPW_TEST_UPSTREAM_TOKEN", "static-upstream-token")
    monkeypatch.setenv("MCPW_TEST_UPSTREAM_KEY", "static-upstream-key")


MODES = ["none", "bearer", "api_key", "client_credentials", "token_exchange"]


def _mode_config(oidc_provider: Any, mode: str) -> dict[str, Any]:
    if mode == "none":
        return {"mode": "none"}
    if mode == "bearer":
        return {"mode": "bearer", "token": "env:MCPW_TEST_UPSTREAM_TOKEN"}
    if mode == "api_key":
        return {"mode": "api_key", "header": "X-Api-Key", "value": "env:MCPW_TEST_UPSTREAM_KEY"}
    return _oauth(oidc_provider, mode)


@pytest.mark.parametrize("mode", MODES)
async def test_upstream_headers_never_contain_client_token(
    oidc_provider: Any, secrets_env: None, mode: str
) -> None:
    client_response = oidc_provider.authorization_code("alice", GATEWAY)
    client_token = client_response["access_token"]
    validator = TokenValidator(AuthConfig(issuer=oidc_provider.issuer))
    principal = await validator.validate(client_token, resource=GATEWAY)
    provider = _provider(oidc_provider, _mode_config(oidc_provider, mode))
    headers = await provider.headers(principal=principal, subject_token=client_token)
    await provider.aclose()
    await validator.aclose()
    assert not contains_token(headers, client_token)
    assert not any(part in value for value in headers.values() for part in client_token.split(".")[1:])


async def test_client_credentials_token_is_for_the_upstream(oidc_provider: Any, secrets_env: None) -> None:
    provider = _provider(oidc_provider, _oauth(oidc_provider, "client_credentials"))
    headers = await provider.headers()
    await provider.aclose()
    upstream_token = headers["Authorization"].removeprefix("Bearer ")
    upstream_validator = TokenValidator(AuthConfig(issuer=oidc_provider.issuer))
    principal = await upstream_validator.validate(upstream_token, resource=UPSTREAM)
    assert principal.subject == oidc_provider.gateway.client_id
    with pytest.raises(AuthError):
        await upstream_validator.validate(upstream_token, resource=GATEWAY)
    await upstream_validator.aclose()


async def test_token_exchange_yields_user_token_bound_to_upstream(
    oidc_provider: Any, secrets_env: None
) -> None:
    client_token = oidc_provider.authorization_code("bob", GATEWAY)["access_token"]
    gateway_validator = TokenValidator(AuthConfig(issuer=oidc_provider.issuer))
    principal = await gateway_validator.validate(client_token, resource=GATEWAY)
    provider = _provider(oidc_provider, _oauth(oidc_provider, "token_exchange"))
    headers = await provider.headers(principal=principal, subject_token=client_token)
    again = await provider.headers(principal=principal, subject_token=client_token)
    await provider.aclose()
    assert again == headers
    exchanged = headers["Authorization"].removeprefix("Bearer ")
    upstream = await gateway_validator.authenticate(exchanged, resource=UPSTREAM)
    assert upstream.principal.subject == "bob"
    assert upstream.principal.claims["act"] == {"sub": oidc_provider.gateway.client_id}
    # The client's own token is useless at the upstream, and the exchanged one at the gateway.
    with pytest.raises(AuthError):
        await gateway_validator.validate(client_token, resource=UPSTREAM)
    with pytest.raises(AuthError):
        await gateway_validator.validate(exchanged, resource=GATEWAY)
    await gateway_validator.aclose()
