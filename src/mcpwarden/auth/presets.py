"""Identity-provider presets: where each IdP puts issuer, audience, roles and scopes.

A preset only supplies defaults; anything written explicitly in the `auth:` section
wins. They exist because the differences are easy to get subtly wrong (an Entra v1
issuer ends with a slash, v2 with `/v2.0`; Entra sends `scp` instead of `scope`;
Keycloak nests roles; Auth0 adds its userinfo URL to `aud`), and a wrong guess there
either locks users out or, worse, accepts tokens minted for another API.
"""

from __future__ import annotations

from typing import Any, Literal

PresetName = Literal["generic", "entra", "keycloak", "auth0"]

ENTRA_V1_ISSUER = "https://sts.windows.net/{tenant}/"
ENTRA_V2_ISSUER = "https://login.microsoftonline.com/{tenant}/v2.0"

_GENERIC: dict[str, Any] = {
    "scope_claims": ["scope", "scp"],
    "role_claims": ["roles"],
    "subject_claim": "sub",
    "client_id_claims": ["client_id", "azp"],
    "accepted_typ": ["at+jwt", "application/at+jwt"],
}


def _entra(options: dict[str, Any]) -> dict[str, Any]:
    tenant = options.get("tenant_id")
    if not tenant:
        raise ValueError("the entra preset needs preset_options.tenant_id")
    versions = options.get("token_versions") or ["v2"]
    issuers = [
        (ENTRA_V2_ISSUER if version == "v2" else ENTRA_V1_ISSUER).format(tenant=tenant)
        for version in versions
    ]
    aliases = [value for value in (options.get("app_id_uri"), options.get("client_id")) if value]
    return {
        "issuer": issuers[0],
        "additional_issuers": issuers[1:],
        # Each version's metadata names its own issuer; both list the tenant's signing keys.
        "metadata_url": (
            f"https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
            if versions[0] == "v2"
            else f"https://login.microsoftonline.com/{tenant}/.well-known/openid-configuration"
        ),
        "audience_aliases": aliases,
        "scope_claims": ["scp"],
        "role_claims": ["roles", "groups"],
        # `oid` is stable across applications; `sub` is pairwise per app.
        "subject_claim": "oid",
        "client_id_claims": ["azp", "appid"],
        # Entra access tokens carry `typ: JWT`, not RFC 9068's `at+jwt`.
        "accepted_typ": ["JWT", "at+jwt"],
        "algorithms": ["RS256"],
    }


def _keycloak(options: dict[str, Any]) -> dict[str, Any]:
    role_claims = ["realm_access.roles"]
    client_id = options.get("client_id")
    if client_id:
        role_claims.append(f"resource_access.{client_id}.roles")
    return {
        "scope_claims": ["scope"],
        "role_claims": role_claims,
        "subject_claim": "sub",
        "client_id_claims": ["azp", "client_id"],
        "accepted_typ": ["JWT", "at+jwt"],
        "discovery": "oidc",
    }


def _auth0(options: dict[str, Any]) -> dict[str, Any]:
    role_claims = ["permissions"]
    if options.get("roles_claim"):
        role_claims.append(options["roles_claim"])
    return {
        "scope_claims": ["scope", "permissions"],
        "role_claims": role_claims,
        "subject_claim": "sub",
        "client_id_claims": ["azp", "client_id"],
        "accepted_typ": ["at+jwt", "JWT"],
        # With `openid` requested Auth0 adds https://TENANT/userinfo to `aud`.
        "strict_audience": False,
    }


def preset_defaults(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """The settings a preset implies, before the user's explicit settings are applied."""
    if name == "generic":
        return dict(_GENERIC)
    if name == "entra":
        return {**_GENERIC, **_entra(options)}
    if name == "keycloak":
        return {**_GENERIC, **_keycloak(options)}
    if name == "auth0":
        return {**_GENERIC, **_auth0(options)}
    raise ValueError(f"unknown auth preset {name!r}")
