"""IdP presets and config validation. Entra ID cannot run here: Entra-shaped tokens are
signed by fixture keys, and those tests say so in their names."""

from __future__ import annotations

import time
from typing import Any

import pytest
from auth_testkit import RESOURCE, FakeIssuer, sign
from pydantic import ValidationError

from mcpwarden.auth.config import AuthConfig, UpstreamCredentials
from mcpwarden.auth.errors import AuthError
from mcpwarden.auth.tokens import TokenValidator

pytestmark = pytest.mark.anyio

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
APP_ID = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
APP_ID_URI = "api://mcpwarden-gateway"
V1_ISSUER = f"https://sts.windows.net/{TENANT}/"
V2_ISSUER = f"https://login.microsoftonline.com/{TENANT}/v2.0"


def _entra_claims(version: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "tid": TENANT,
        "oid": "00000000-0000-0000-0000-0000000000a1",
        "sub": "pairwise-subject-for-this-app",
        "scp": "tools.read tools.call",
        "roles": ["MCP.Admin"],
        "groups": ["11111111-2222-3333-4444-555555555555"],
        "ver": "1.0" if version == "v1" else "2.0",
    }
    if version == "v1":
        claims.update(iss=V1_ISSUER, aud=APP_ID_URI, appid="client-app-v1")
    else:
        claims.update(iss=V2_ISSUER, aud=APP_ID, azp="client-app-v2")
    claims.update(overrides)
    return claims


def _entra_validator(idp: FakeIssuer, versions: list[str]) -> TokenValidator:
    config = AuthConfig(
        preset="entra",
        preset_options={
            "tenant_id": TENANT,
            "token_versions": versions,
            "client_id": APP_ID,
            "app_id_uri": APP_ID_URI,
        },
        audience=RESOURCE,
    )
    return TokenValidator(config, client=idp.client())


@pytest.fixture
def entra() -> FakeIssuer:
    # Entra's tenant metadata reports the v2 issuer; both token versions share its keys.
    return FakeIssuer(issuer=V2_ISSUER)


def test_entra_preset_sets_v2_issuer_and_claim_paths() -> None:
    config = AuthConfig(preset="entra", preset_options={"tenant_id": TENANT})
    assert config.issuer == V2_ISSUER
    assert config.scope_claims == ["scp"]
    assert config.role_claims == ["roles", "groups"]
    assert config.subject_claim == "oid"


def test_entra_preset_with_both_versions_accepts_both_issuers() -> None:
    config = AuthConfig(preset="entra", preset_options={"tenant_id": TENANT, "token_versions": ["v2", "v1"]})
    assert config.issuers == {V1_ISSUER, V2_ISSUER}


def test_entra_v1_only_preset_reads_v1_metadata() -> None:
    config = AuthConfig(preset="entra", preset_options={"tenant_id": TENANT, "token_versions": ["v1"]})
    assert config.issuer == V1_ISSUER
    assert (
        config.metadata_url == f"https://login.microsoftonline.com/{TENANT}/.well-known/openid-configuration"
    )


async def test_accepts_entra_v1_only_token_entra_shaped_fixture_keys() -> None:
    entra_v1 = FakeIssuer(issuer=V1_ISSUER)
    token = sign(entra_v1.key, _entra_claims("v1"), typ="JWT")
    verified = await _entra_validator(entra_v1, ["v1"]).authenticate(token, resource=RESOURCE)
    assert verified.principal.issuer == V1_ISSUER


def test_entra_preset_requires_tenant() -> None:
    with pytest.raises(ValidationError):
        AuthConfig(preset="entra")


def test_explicit_setting_overrides_preset() -> None:
    config = AuthConfig(preset="entra", preset_options={"tenant_id": TENANT}, role_claims=["roles"])
    assert config.role_claims == ["roles"]


async def test_accepts_entra_v2_token_with_client_id_audience_entra_shaped_fixture_keys(
    entra: FakeIssuer,
) -> None:
    token = sign(entra.key, _entra_claims("v2"), typ="JWT")
    verified = await _entra_validator(entra, ["v2"]).authenticate(token, resource=RESOURCE)
    assert verified.principal.subject == "00000000-0000-0000-0000-0000000000a1"
    assert verified.principal.client_id == "client-app-v2"
    assert verified.scopes == {"tools.read", "tools.call"}
    assert verified.roles == {"MCP.Admin", "11111111-2222-3333-4444-555555555555"}


async def test_accepts_entra_v1_token_with_app_id_uri_audience_entra_shaped_fixture_keys(
    entra: FakeIssuer,
) -> None:
    token = sign(entra.key, _entra_claims("v1"), typ="JWT")
    verified = await _entra_validator(entra, ["v2", "v1"]).authenticate(token, resource=RESOURCE)
    assert verified.principal.issuer == V1_ISSUER
    assert verified.principal.client_id == "client-app-v1"


async def test_rejects_entra_v1_token_when_only_v2_enabled_entra_shaped_fixture_keys(
    entra: FakeIssuer,
) -> None:
    token = sign(entra.key, _entra_claims("v1"), typ="JWT")
    with pytest.raises(AuthError) as info:
        await _entra_validator(entra, ["v2"]).validate(token, resource=RESOURCE)
    assert info.value.reason == "token.issuer"


async def test_rejects_entra_token_for_another_app_entra_shaped_fixture_keys(entra: FakeIssuer) -> None:
    token = sign(entra.key, _entra_claims("v2", aud="99999999-0000-0000-0000-000000000000"), typ="JWT")
    with pytest.raises(AuthError) as info:
        await _entra_validator(entra, ["v2"]).validate(token, resource=RESOURCE)
    assert info.value.reason == "token.audience"


async def test_rejects_entra_token_from_another_tenant_entra_shaped_fixture_keys(entra: FakeIssuer) -> None:
    other = "https://login.microsoftonline.com/00000000-0000-0000-0000-00000000dead/v2.0"
    token = sign(entra.key, _entra_claims("v2", iss=other), typ="JWT")
    with pytest.raises(AuthError) as info:
        await _entra_validator(entra, ["v2"]).validate(token, resource=RESOURCE)
    assert info.value.reason == "token.issuer"


async def test_rejects_entra_token_signed_with_hs256_entra_shaped_fixture_keys(entra: FakeIssuer) -> None:
    from auth_testkit import hmac_token

    token = hmac_token({"alg": "HS256", "typ": "JWT", "kid": entra.key.kid}, _entra_claims("v2"), b"k" * 32)
    with pytest.raises(AuthError) as info:
        await _entra_validator(entra, ["v2"]).validate(token, resource=RESOURCE)
    assert info.value.reason == "token.alg"


async def test_keycloak_preset_reads_realm_and_client_roles() -> None:
    idp = FakeIssuer(issuer="https://kc.example.test/realms/mcp")
    config = AuthConfig(preset="keycloak", preset_options={"client_id": "mcpwarden"}, issuer=idp.issuer)
    claims = idp.claims(
        roles=None,
        azp="desktop",
        realm_access={"roles": ["offline_access", "mcp-user"]},
        resource_access={"mcpwarden": {"roles": ["tool-admin"]}, "account": {"roles": ["view-profile"]}},
    )
    verified = await TokenValidator(config, client=idp.client()).authenticate(
        sign(idp.key, claims, typ="JWT"), resource=RESOURCE
    )
    assert verified.roles == {"offline_access", "mcp-user", "tool-admin"}
    assert verified.principal.client_id == "desktop"


async def test_auth0_preset_accepts_userinfo_audience_and_reads_permissions() -> None:
    idp = FakeIssuer(issuer="https://tenant.auth0.example/")
    config = AuthConfig(
        preset="auth0", preset_options={"roles_claim": "https://mcpwarden.dev/roles"}, issuer=idp.issuer
    )
    claims = idp.claims(
        roles=None,
        aud=[RESOURCE, "https://tenant.auth0.example/userinfo"],
        scope="openid mcp:tools",
        permissions=["tools:call", "tools:list"],
        **{"https://mcpwarden.dev/roles": ["operator"]},
    )
    verified = await TokenValidator(config, client=idp.client()).authenticate(
        sign(idp.key, claims), resource=RESOURCE
    )
    assert verified.roles == {"tools:call", "tools:list", "operator"}
    assert {"mcp:tools", "tools:call"} <= verified.scopes


async def test_generic_preset_rejects_typ_jwt() -> None:
    idp = FakeIssuer()
    with pytest.raises(AuthError) as info:
        await idp.validator(preset="generic").validate(idp.token(header={"typ": "JWT"}), resource=RESOURCE)
    assert info.value.reason == "token.typ"


@pytest.mark.parametrize("algorithms", [["none"], ["HS256"], ["RS256", "HS512"], []])
def test_config_rejects_non_asymmetric_algorithms(algorithms: list[str]) -> None:
    with pytest.raises(ValidationError):
        AuthConfig(issuer="https://idp.example.test", algorithms=algorithms)


def test_config_rejects_unknown_keys() -> None:
    with pytest.raises(ValidationError):
        AuthConfig(issuer="https://idp.example.test", audiance="typo")


@pytest.mark.parametrize("secret", ["plain-secret", "vault:x", "env:", "file:"])
def test_config_rejects_inline_or_unknown_secret_refs(secret: str) -> None:
    from pydantic import TypeAdapter

    with pytest.raises(ValidationError):
        TypeAdapter(UpstreamCredentials).validate_python({"mode": "bearer", "token": secret})


def test_token_exchange_config_needs_upstream_target() -> None:
    from pydantic import TypeAdapter

    with pytest.raises(ValidationError):
        TypeAdapter(UpstreamCredentials).validate_python(
            {"mode": "token_exchange", "client_id": "gw", "client_secret": "env:GW_SECRET"}
        )


def test_upstream_credentials_default_to_none_mode() -> None:
    from pydantic import TypeAdapter

    assert TypeAdapter(UpstreamCredentials).validate_python({"mode": "none"}).mode == "none"
