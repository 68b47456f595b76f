"""Signing users in at the gateway through the enterprise OpenID Connect provider.

The gateway is an ordinary confidential OIDC client of the IdP: authorization code with
PKCE (S256), a `nonce` bound into the ID token, and the ID token's signature, issuer,
audience, expiry and nonce checked against the IdP's published keys. Only the `sub` it
proves is used. Metadata and keys are fetched lazily, so the gateway starts (and serves
its own RFC 8414 metadata) while the IdP is still down.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from mcpwarden.auth.discovery import DiscoveryError, discover
from mcpwarden.auth.http import basic_auth_header
from mcpwarden.auth.secrets import SecretError, resolve_secret
from mcpwarden.authserver.config import IdpConfig

ID_TOKEN_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]


class LoginError(Exception):
    """The user could not be signed in; the message is safe to show and audit."""


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class OidcLogin:
    def __init__(self, config: IdpConfig, client: httpx.AsyncClient) -> None:
        self.config = config
        self._http = client
        self._metadata: dict[str, Any] | None = None

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            try:
                self._metadata = await discover(self._http, self.config.issuer, mode="oidc")
            except DiscoveryError as exc:
                raise LoginError(f"identity provider unavailable: {exc}") from None
        return self._metadata

    async def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, verifier: str, login_hint: str | None
    ) -> str:
        meta = await self.metadata()
        params = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(self.config.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
        }
        if login_hint and self.config.forward_login_hint:
            params["login_hint"] = login_hint
        return f"{meta['authorization_endpoint']}?{urlencode(params)}"

    async def finish(self, *, code: str, redirect_uri: str, verifier: str, nonce: str) -> str:
        """The IdP subject proved by the code's ID token."""
        meta = await self.metadata()
        try:
            secret = resolve_secret(self.config.client_secret)
        except SecretError as exc:
            raise LoginError(str(exc)) from None
        try:
            response = await self._http.post(
                str(meta["token_endpoint"]),
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": verifier,
                },
                headers={"Authorization": basic_auth_header(self.config.client_id, secret)},
            )
            body = response.json()
            keys = KeySet.import_key_set((await self._http.get(str(meta["jwks_uri"]))).json())
        except (httpx.HTTPError, ValueError) as exc:
            raise LoginError(f"identity provider unavailable: {type(exc).__name__}") from None
        id_token = body.get("id_token") if isinstance(body, dict) else None
        if response.status_code != 200 or not isinstance(id_token, str):
            error = body.get("error") if isinstance(body, dict) else None
            detail = body.get("error_description") if isinstance(body, dict) else None
            raise LoginError(f"identity provider refused the code ({response.status_code} {error}: {detail})")
        try:
            claims = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS).claims
        except (JoseError, ValueError) as exc:
            raise LoginError(f"ID token rejected: {type(exc).__name__}") from None
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        exp = claims.get("exp")
        bad = []
        if claims.get("iss") != self.config.issuer:
            bad.append("issuer")
        if self.config.client_id not in audiences:
            bad.append("audience")
        if not isinstance(exp, int | float) or exp < time.time() - 30:
            bad.append("expiry")
        if claims.get("nonce") != nonce:
            bad.append("nonce")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            bad.append("subject")
        if bad:
            raise LoginError(f"ID token rejected: {', '.join(bad)}")
        return str(claims["sub"])
