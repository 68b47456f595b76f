"""Typed `auth:` configuration: the resource server and each upstream's credentials.

Secrets never appear inline: they are references (`env:NAME`, `file:PATH`) resolved
when used, so a config file can be committed and shown in `mcpwarden config` output
without leaking anything.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from mcpwarden.auth.presets import PresetName, preset_defaults
from mcpwarden.types import FileUse

ASYMMETRIC_ALGORITHMS: tuple[str, ...] = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)

TOKEN_TYPE_ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"


def _check_secret_ref(value: str) -> str:
    scheme, sep, rest = value.partition(":")
    if not sep or scheme not in ("env", "file") or not rest:
        raise ValueError("secrets must be references: 'env:NAME' or 'file:PATH', never inline values")
    return value


SecretRef = Annotated[str, AfterValidator(_check_secret_ref), FileUse("secret", "a non-empty secret")]


def _check_algorithms(values: list[str]) -> list[str]:
    bad = [alg for alg in values if alg not in ASYMMETRIC_ALGORITHMS]
    if bad:
        raise ValueError(
            f"unsupported algorithms {bad}: only asymmetric JWS algorithms are accepted "
            "(never 'none'; HS* would let anyone holding the public key forge tokens)"
        )
    if not values:
        raise ValueError("at least one algorithm is required")
    return values


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EndpointAuth(_Strict):
    """Per-endpoint overrides: a token for one upstream endpoint is not valid at another."""

    audiences: list[str] = Field(
        default_factory=list, description="Accepted `aud` values; default: the endpoint's resource URL."
    )
    required_scopes: list[str] = Field(default_factory=list)


class IntrospectionConfig(_Strict):
    """RFC 7662 introspection for opaque tokens, with the gateway's own client credentials."""

    endpoint: str | None = Field(None, description="Default: `introspection_endpoint` from metadata.")
    client_id: str
    client_secret: SecretRef
    cache_ttl: float = Field(60.0, gt=0, description="Seconds an active result is reused (capped by exp).")
    negative_cache_ttl: float = Field(5.0, ge=0, description="Seconds an inactive result is reused.")
    cache_size: int = Field(10_000, gt=0)


EntraVersion = Literal["v1", "v2"]


def _default_entra_versions() -> list[EntraVersion]:
    return ["v2"]


class PresetOptions(_Strict):
    tenant_id: str | None = Field(None, description="Entra ID tenant id.")
    token_versions: list[EntraVersion] = Field(
        default_factory=_default_entra_versions, description="Entra access token versions to accept."
    )
    client_id: str | None = Field(None, description="Entra app (client) id / Keycloak client id.")
    app_id_uri: str | None = Field(None, description="Entra App ID URI, e.g. api://mcpwarden.")
    roles_claim: str | None = Field(None, description="Auth0 namespaced roles claim.")


class AuthConfig(_Strict):
    """The gateway as an OAuth 2.1 resource server."""

    preset: PresetName = "generic"
    preset_options: PresetOptions = Field(default_factory=PresetOptions)
    issuer: str
    additional_issuers: list[str] = Field(
        default_factory=list, description="Other exact `iss` values sharing the issuer's keys."
    )
    discovery: Literal["auto", "oauth", "oidc"] = Field(
        "auto", description="RFC 8414 then OIDC discovery (auto), or only one of them."
    )
    metadata_url: str | None = Field(None, description="Fetch metadata from here instead of well-known URLs.")
    jwks_uri: str | None = Field(None, description="Skip discovery for keys.")
    audience: str | None = Field(
        None, description="The gateway's canonical resource URL; default: the URL the request came to."
    )
    audience_aliases: list[str] = Field(
        default_factory=list,
        description="Other `aud` values meaning the default audience (client id, App ID URI).",
    )
    endpoints: dict[str, EndpointAuth] = Field(default_factory=dict, description="Keyed by resource URL.")
    strict_audience: bool = Field(True, description="Reject an `aud` list that also names other resources.")
    algorithms: Annotated[list[str], AfterValidator(_check_algorithms)] = Field(
        default_factory=lambda: list(ASYMMETRIC_ALGORITHMS)
    )
    leeway: float = Field(30.0, ge=0, le=600, description="Clock skew allowed for exp/nbf/iat, seconds.")
    max_token_lifetime: float | None = Field(
        None, gt=0, description="Reject tokens whose exp - iat exceeds this many seconds."
    )
    required_scopes: list[str] = Field(default_factory=list)
    scope_claims: list[str] = Field(default_factory=lambda: ["scope", "scp"])
    role_claims: list[str] = Field(default_factory=lambda: ["roles"])
    subject_claim: str = "sub"
    client_id_claims: list[str] = Field(default_factory=lambda: ["client_id", "azp"])
    accepted_typ: list[str] = Field(
        default_factory=lambda: ["at+jwt", "application/at+jwt"],
        description="JOSE `typ` values accepted when the header has one.",
    )
    require_typ: bool = Field(False, description="Reject JWTs without a `typ` header.")
    introspection: IntrospectionConfig | None = None
    jwks_cache_ttl: float = Field(
        3600.0, gt=0, description="Keys older than this are re-fetched (rate-limited) on next use."
    )
    jwks_refresh_min_interval: float = Field(
        30.0, ge=0, description="Unknown `kid`s trigger at most one key refresh per this many seconds."
    )
    token_cache_size: int = Field(10_000, gt=0, description="Validated tokens kept until they expire.")
    insufficient_scope_strategy: Literal["required", "recommended"] = Field(
        "required",
        description=(
            "'required': challenge only the scopes the operation needs (valid in 2025-11-25 and "
            "2026-07-28); 'recommended': also repeat the relevant scopes already granted (2025-11-25)."
        ),
    )
    http_timeout: float = Field(5.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        name = data.get("preset", "generic")
        raw_options = data.get("preset_options") or {}
        options = raw_options.model_dump() if isinstance(raw_options, BaseModel) else dict(raw_options)
        if name == "entra" and "token_versions" not in options:
            options["token_versions"] = ["v2"]
        defaults = preset_defaults(str(name), options)
        return {**defaults, **data}

    @property
    def issuers(self) -> frozenset[str]:
        return frozenset([self.issuer, *self.additional_issuers])


class NoCredentials(_Strict):
    mode: Literal["none"] = "none"


class BearerCredentials(_Strict):
    """A static bearer token for the upstream, from a secret reference."""

    mode: Literal["bearer"]
    token: SecretRef


class ApiKeyCredentials(_Strict):
    """A static API key sent in a header of the upstream's choosing."""

    mode: Literal["api_key"]
    header: str = "X-API-Key"
    value: SecretRef
    prefix: str = Field("", description="Written before the key, e.g. 'ApiKey '.")

    @model_validator(mode="after")
    def _header_is_a_token(self) -> ApiKeyCredentials:
        allowed = set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        if not self.header or not set(self.header) <= allowed:
            raise ValueError(f"invalid header name {self.header!r}")
        return self


class _OAuthClient(_Strict):
    token_endpoint: str | None = Field(None, description="Default: discovered from `issuer`.")
    issuer: str | None = Field(None, description="Default: the `auth.issuer`.")
    client_id: str
    client_secret: SecretRef
    auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    scope: list[str] = Field(default_factory=list)
    resource: str | None = Field(None, description="RFC 8707 resource: the upstream's canonical URL.")
    audience: str | None = None
    refresh_skew: float = Field(30.0, ge=0, description="Renew this many seconds before expiry.")


class ClientCredentialsConfig(_OAuthClient):
    """The gateway's own OAuth client credentials grant for this upstream."""

    mode: Literal["client_credentials"]


class TokenExchangeConfig(_OAuthClient):
    """RFC 8693: trade the caller's validated token for one whose audience is the upstream."""

    mode: Literal["token_exchange"]
    requested_token_type: str = TOKEN_TYPE_ACCESS_TOKEN
    cache_size: int = Field(10_000, gt=0)

    @model_validator(mode="after")
    def _has_target(self) -> TokenExchangeConfig:
        if not (self.resource or self.audience):
            raise ValueError("token_exchange needs the upstream as `resource` or `audience`")
        return self


class UserOAuthCredentials(_Strict):
    """The calling user's own token at a third party, obtained by the gateway's authorization server.

    Attached only to the upstream calls of the user it belongs to; never sent to the MCP
    client. `provider` names an entry of `authorization_server.third_parties`.
    """

    mode: Literal["user_oauth"]
    provider: str


UpstreamCredentials = Annotated[
    NoCredentials
    | BearerCredentials
    | ApiKeyCredentials
    | ClientCredentialsConfig
    | TokenExchangeConfig
    | UserOAuthCredentials,
    Field(discriminator="mode"),
]
