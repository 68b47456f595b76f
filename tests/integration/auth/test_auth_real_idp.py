"""TokenValidator against a real OIDC provider (npm oidc-provider on loopback).

Valid tokens come from the provider's own grants. Attack tokens are forged with our
own keys (joserfc / raw HMAC) against the provider's real JWKS, or are real tokens
presented where they do not belong.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import RSAKey, import_key

from mcpwarden.auth.config import AuthConfig
from mcpwarden.auth.discovery import DiscoveryError, discover
from mcpwarden.auth.errors import AuthError
from mcpwarden.auth.metadata import extract_bearer
from mcpwarden.auth.tokens import TokenValidator

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

GATEWAY = "https://gw.example.test/mcp"
ENDPOINT_A = "https://gw.example.test/servers/a/mcp"
ENDPOINT_B = "https://gw.example.test/servers/b/mcp"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return json.loads(base64.urlsafe_b64decode(pad(header))), json.loads(
        base64.urlsafe_b64decode(pad(payload))
    )


def _validator(oidc_provider: Any, **config: Any) -> TokenValidator:
    settings: dict[str, Any] = {"issuer": oidc_provider.issuer, "leeway": 5}
    settings.update(config)
    return TokenValidator(AuthConfig(**settings))


async def _rejected(validator: TokenValidator, token: str, resource: str = GATEWAY) -> AuthError:
    try:
        with pytest.raises(AuthError) as info:
            await validator.validate(token, resource=resource)
    finally:
        await validator.aclose()
    return info.value


async def test_accepts_client_credentials_token(oidc_provider: Any) -> None:
    validator = _validator(oidc_provider)
    token = oidc_provider.client_credentials(GATEWAY)
    verified = await validator.authenticate(token, resource=GATEWAY)
    await validator.aclose()
    assert verified.principal.subject == "service-client"
    assert verified.principal.client_id == "service-client"
    assert verified.principal.issuer == oidc_provider.issuer
    assert verified.roles == {"mcp.service"}
    assert verified.scopes == {"mcp:tools"}


async def test_accepts_user_token_from_authorization_code_with_pkce(oidc_provider: Any) -> None:
    validator = _validator(oidc_provider, role_claims=["realm_access.roles"])
    token = oidc_provider.authorization_code("alice", GATEWAY)["access_token"]
    verified = await validator.authenticate(token, resource=GATEWAY)
    await validator.aclose()
    assert verified.principal.subject == "alice"
    assert verified.principal.client_id == "mcp-public-client"
    assert verified.roles == {"mcp.admin", "mcp.user"}
    assert verified.principal.key == f"{oidc_provider.issuer}|alice|mcp-public-client"


async def test_keys_are_fetched_once_for_many_requests(oidc_provider: Any) -> None:
    validator = _validator(oidc_provider)
    await validator.start()
    for user in ("alice", "bob"):
        await validator.validate(
            oidc_provider.authorization_code(user, GATEWAY)["access_token"], resource=GATEWAY
        )
    for _ in range(3):
        await validator.validate(oidc_provider.client_credentials(GATEWAY), resource=GATEWAY)
    await validator.aclose()
    assert validator.jwks.fetch_count == 1


async def test_rejects_token_with_alg_none(oidc_provider: Any) -> None:
    header, claims = _segments(oidc_provider.client_credentials(GATEWAY))
    forged = f"{_b64(json.dumps({**header, 'alg': 'none'}).encode())}.{_b64(json.dumps(claims).encode())}."
    error = await _rejected(_validator(oidc_provider), forged)
    assert (error.status, error.error, error.reason) == (401, "invalid_token", "token.alg")


async def test_rejects_hs256_signed_with_rsa_public_key(oidc_provider: Any) -> None:
    jwk = oidc_provider.jwks()["keys"][0]
    public_pem = import_key(jwk).as_pem(private=False)
    header, claims = _segments(oidc_provider.client_credentials(GATEWAY))
    claims["sub"] = "admin"
    signing_input = (
        f"{_b64(json.dumps({**header, 'alg': 'HS256'}).encode())}.{_b64(json.dumps(claims).encode())}"
    )
    forged = f"{signing_input}.{_b64(hmac.new(public_pem, signing_input.encode(), 'sha256').digest())}"
    error = await _rejected(_validator(oidc_provider), forged)
    assert (error.status, error.error, error.reason) == (401, "invalid_token", "token.alg")


async def test_rejects_token_signed_with_unknown_kid(oidc_provider: Any) -> None:
    _, claims = _segments(oidc_provider.client_credentials(GATEWAY))
    attacker = RSAKey.generate_key(2048, parameters={"kid": "attacker-kid"})
    forged = jws.serialize_compact(
        {"alg": "RS256", "kid": "attacker-kid", "typ": "at+jwt"}, json.dumps(claims).encode(), attacker
    )
    error = await _rejected(_validator(oidc_provider), forged)
    assert (error.status, error.error, error.reason) == (401, "invalid_token", "token.kid")


async def test_rejects_token_forged_under_the_providers_kid(oidc_provider: Any) -> None:
    header, claims = _segments(oidc_provider.client_credentials(GATEWAY))
    attacker = RSAKey.generate_key(2048, parameters={"kid": header["kid"]})
    forged = jws.serialize_compact(header, json.dumps(claims).encode(), attacker)
    error = await _rejected(_validator(oidc_provider), forged)
    assert (error.status, error.reason) == (401, "token.signature")


async def test_rejects_wrong_issuer(oidc_provider: Any) -> None:
    # A genuinely signed token whose `iss` is not the issuer this gateway trusts.
    validator = _validator(
        oidc_provider, issuer=f"{oidc_provider.issuer}/tenant-b", jwks_uri=oidc_provider.jwks_uri
    )
    error = await _rejected(validator, oidc_provider.client_credentials(GATEWAY))
    assert (error.status, error.error, error.reason) == (401, "invalid_token", "token.issuer")


async def test_rejects_audience_of_another_resource(oidc_provider: Any) -> None:
    token = oidc_provider.client_credentials("https://other-service.example.test/mcp")
    error = await _rejected(_validator(oidc_provider), token)
    assert (error.status, error.error, error.reason) == (401, "invalid_token", "token.audience")


async def test_rejects_audience_list_with_others_in_strict_mode(oidc_provider: Any) -> None:
    resource = "https://gw.example.test/multi-aud/mcp"
    token = oidc_provider.client_credentials(resource)
    assert isinstance(_segments(token)[1]["aud"], list)
    error = await _rejected(_validator(oidc_provider, strict_audience=True), token, resource)
    assert (error.status, error.reason) == (401, "token.audience_extra")


async def test_accepts_audience_list_with_others_when_not_strict(oidc_provider: Any) -> None:
    resource = "https://gw.example.test/multi-aud/mcp"
    validator = _validator(oidc_provider, strict_audience=False)
    principal = await validator.validate(oidc_provider.client_credentials(resource), resource=resource)
    await validator.aclose()
    assert principal.subject == "service-client"


async def test_rejects_expired_token(oidc_provider: Any) -> None:
    resource = "https://gw.example.test/short/mcp"  # the provider issues 1-second tokens here
    token = oidc_provider.client_credentials(resource)
    claims = _segments(token)[1]
    assert claims["exp"] - claims["iat"] == 1
    await asyncio.sleep(2.2)
    error = await _rejected(_validator(oidc_provider, leeway=0), token, resource)
    assert (error.status, error.error, error.reason) == (401, "invalid_token", "token.expired")


async def test_rejects_real_token_when_local_clock_runs_behind(oidc_provider: Any) -> None:
    # oidc-provider sends no nbf, so a real token is "not yet valid" only through iat:
    # pretend our clock runs an hour behind the provider's. (nbf itself: unit tests.)
    import time

    validator = TokenValidator(
        AuthConfig(issuer=oidc_provider.issuer, leeway=5), clock=lambda: time.time() - 3600
    )
    error = await _rejected(validator, oidc_provider.client_credentials(GATEWAY))
    assert (error.status, error.reason) == (401, "token.iat_future")


async def test_rejects_token_replayed_at_another_endpoint(oidc_provider: Any) -> None:
    validator = _validator(oidc_provider, endpoints={ENDPOINT_A: {}, ENDPOINT_B: {}})
    token = oidc_provider.authorization_code("bob", ENDPOINT_A)["access_token"]
    assert (await validator.validate(token, resource=ENDPOINT_A)).subject == "bob"
    error = await _rejected(validator, token, ENDPOINT_B)
    assert (error.status, error.error, error.reason) == (401, "invalid_token", "token.audience")


async def test_rejects_token_in_query_string(oidc_provider: Any) -> None:
    token = oidc_provider.client_credentials(GATEWAY)
    with pytest.raises(AuthError) as info:
        extract_bearer({}, {"access_token": token})
    assert (info.value.status, info.value.error, info.value.reason) == (
        400,
        "invalid_request",
        "token.in_query",
    )


async def test_missing_scope_is_403_with_needed_scope(oidc_provider: Any) -> None:
    validator = _validator(oidc_provider, required_scopes=["mcp:write"])
    error = await _rejected(validator, oidc_provider.client_credentials(GATEWAY, scope="mcp:tools"))
    assert (error.status, error.error, error.scope) == (403, "insufficient_scope", ["mcp:write"])


async def test_accepts_opaque_token_through_introspection(oidc_provider: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("MCPW_TEST_GW_SECRET", oidc_provider.gateway.client_secret)
    resource = "https://gw.example.test/opaque/mcp"
    token = oidc_provider.client_credentials(resource)
    assert token.count(".") == 0
    validator = _validator(
        oidc_provider,
        introspection={
            "client_id": oidc_provider.gateway.client_id,
            "client_secret": "env:MCPW_TEST_GW_SECRET",
        },
    )
    verified = await validator.authenticate(token, resource=resource)
    await validator.aclose()
    assert (verified.kind, verified.principal.subject, verified.scopes) == (
        "opaque",
        "service-client",
        {"mcp:tools"},
    )


async def test_rejects_opaque_token_for_another_resource(oidc_provider: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("MCPW_TEST_GW_SECRET", oidc_provider.gateway.client_secret)
    token = oidc_provider.client_credentials("https://gw.example.test/opaque/mcp")
    validator = _validator(
        oidc_provider,
        introspection={
            "client_id": oidc_provider.gateway.client_id,
            "client_secret": "env:MCPW_TEST_GW_SECRET",
        },
    )
    error = await _rejected(validator, token, "https://gw.example.test/other/mcp")
    assert error.reason == "token.audience"


async def test_rejects_unknown_opaque_token(oidc_provider: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("MCPW_TEST_GW_SECRET", oidc_provider.gateway.client_secret)
    validator = _validator(
        oidc_provider,
        introspection={
            "client_id": oidc_provider.gateway.client_id,
            "client_secret": "env:MCPW_TEST_GW_SECRET",
        },
    )
    error = await _rejected(validator, "made-up-opaque-token-value", GATEWAY)
    assert (error.status, error.reason) == (401, "token.inactive")


async def test_discovers_metadata_by_rfc8414_and_by_oidc_discovery(oidc_provider: Any) -> None:
    import httpx

    async with httpx.AsyncClient() as client:
        oauth = await discover(client, oidc_provider.issuer, mode="oauth")
        oidc = await discover(client, oidc_provider.issuer, mode="oidc")
    assert oauth["jwks_uri"] == oidc["jwks_uri"] == oidc_provider.jwks_uri


async def test_discovery_refuses_metadata_for_another_issuer(oidc_provider: Any) -> None:
    import httpx

    async with httpx.AsyncClient() as client:
        with pytest.raises(DiscoveryError):
            await discover(client, oidc_provider.issuer, accepted_issuers=frozenset(["https://evil.example"]))
