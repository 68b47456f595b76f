"""Typed `authorization_server:` configuration: the gateway as OAuth authorization server.

Secrets (the enterprise IdP's client secret, each third party's client secret, the vault
keys, the signing key) are references resolved when used, exactly like `auth:`; nothing
here holds a secret value.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mcpwarden.auth.config import SecretRef
from mcpwarden.egress import EgressRule


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_url(value: str, *, what: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment or parts.query:
        raise ValueError(f"{what} must be an absolute http(s) URL without query or fragment")
    return value.rstrip("/")


class IdpConfig(_Strict):
    """The enterprise OpenID Connect provider users sign in with before they consent."""

    issuer: str
    client_id: str
    client_secret: SecretRef
    scopes: list[str] = Field(default_factory=lambda: ["openid"])
    forward_login_hint: bool = Field(
        True, description="Pass the MCP client's `login_hint` on to the IdP (a convenience, never trusted)."
    )

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, v: str) -> str:
        return _check_url(v, what="authorization_server.idp.issuer")


ThirdPartyKind = Literal["github", "google", "generic"]

# Endpoints of the well-known providers; `generic` must name its own.
KNOWN_ENDPOINTS: dict[str, tuple[str, str]] = {
    "github": ("https://github.com/login/oauth/authorize", "https://github.com/login/oauth/access_token"),
    "google": ("https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token"),
}


class ThirdPartyConfig(_Strict):
    """One third party whose per-user authorization the gateway obtains and keeps."""

    kind: ThirdPartyKind = "generic"
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    client_id: str
    client_secret: SecretRef
    scopes: list[str] = Field(default_factory=list)
    extra_authorize_params: dict[str, str] = Field(
        default_factory=dict, description="Added to the third party's authorization URL (e.g. access_type)."
    )
    refresh_skew: float = Field(60.0, ge=0, description="Refresh this many seconds before expiry.")

    @model_validator(mode="after")
    def _endpoints(self) -> ThirdPartyConfig:
        if self.kind == "generic" and not (self.authorization_endpoint and self.token_endpoint):
            raise ValueError("a generic third party needs authorization_endpoint and token_endpoint")
        return self

    def endpoints(self) -> tuple[str, str]:
        known = KNOWN_ENDPOINTS.get(self.kind)
        auth = self.authorization_endpoint or (known[0] if known else "")
        token = self.token_endpoint or (known[1] if known else "")
        return auth, token


class VaultConfig(_Strict):
    """AES-256-GCM keys for third-party tokens at rest: the first encrypts, all decrypt."""

    keys: list[SecretRef] = Field(
        min_length=1,
        description="Secret references to 32-byte keys (base64url or hex). Rotate by putting the new "
        "key first; `mcpwarden oauth tokens rewrap` re-encrypts old rows, then drop the old key.",
    )


class CimdConfig(_Strict):
    """Client ID Metadata Documents: a client_id that is an https URL names its own metadata."""

    enabled: bool = True
    timeout_s: float = Field(5.0, gt=0, le=30)
    max_bytes: int = Field(16_384, gt=0, le=1_048_576)
    max_redirects: int = Field(2, ge=0, le=5)
    cache_ttl_s: float = Field(300.0, ge=0)
    cache_size: int = Field(1000, gt=0)
    require_https: bool = Field(True, description="Refuse http:// client ids (turn off only for tests).")
    allow: list[str] = Field(
        default_factory=list,
        description="Egress entries (host:port, network:port) fetched even though internal.",
    )

    @field_validator("allow")
    @classmethod
    def _rules(cls, v: list[str]) -> list[str]:
        for entry in v:
            EgressRule.parse(entry)
        return v


class AuthServerConfig(_Strict):
    """The gateway as authorization server for MCP clients, with per-client consent."""

    issuer: str = Field(description="This authorization server's issuer URL (RFC 8414), e.g. the public URL.")
    signing_key: SecretRef | None = Field(
        None,
        description="PEM private key (RSA or EC P-256) signing access tokens. Unset: a key generated at "
        "start (tokens stop validating after a restart; set one for replicas).",
    )
    access_token_ttl: int = Field(300, gt=0, le=86_400)
    refresh_token_ttl: int = Field(86_400, gt=0)
    code_ttl: int = Field(60, gt=0, le=600)
    login_ttl: int = Field(3600, gt=0, description="Seconds a gateway login (IdP sign-in) lasts.")
    scopes_supported: list[str] = Field(default_factory=lambda: ["mcp:tools"])
    dynamic_registration: bool = Field(True, description="RFC 7591 registration endpoint (DCR).")
    idp: IdpConfig
    third_parties: dict[str, ThirdPartyConfig] = Field(default_factory=dict)
    vault: VaultConfig | None = None
    cimd: CimdConfig = Field(default_factory=CimdConfig)

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, v: str) -> str:
        from urllib.parse import urlsplit

        url = _check_url(v, what="authorization_server.issuer")
        parts = urlsplit(url)
        if parts.path not in ("", "/"):
            raise ValueError("authorization_server.issuer is scheme://host[:port] (the gateway's public URL)")
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not loopback:
            raise ValueError("authorization_server.issuer must be https (http only on loopback)")
        return url

    @model_validator(mode="after")
    def _vault_for_third_parties(self) -> AuthServerConfig:
        if self.third_parties and self.vault is None:
            raise ValueError("third_parties need `vault.keys`: their tokens are only stored encrypted")
        return self
