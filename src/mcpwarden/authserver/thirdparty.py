"""Per-user authorization at a third party (GitHub, Google, any OAuth 2 provider).

The gateway is the third party's OAuth client: authorization code with PKCE (S256),
its own `state` (bound to the browser by a cookie set only after the user consented),
tokens sealed in the vault under (user, provider), refreshed shortly before expiry.
Nothing here ever returns a third-party token to an MCP client: the only consumer is
`UserTokenSource.access_token`, called by the upstream credential hook for the
session's own user.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from mcpwarden.auth.secrets import SecretError, resolve_secret
from mcpwarden.authserver.config import ThirdPartyConfig
from mcpwarden.authserver.oidc_login import s256
from mcpwarden.authserver.store import OAuthStore
from mcpwarden.authserver.vault import Vault, VaultError


class ThirdPartyError(Exception):
    """No usable third-party token; the message names the provider, never a token."""


def authorization_url(cfg: ThirdPartyConfig, *, redirect_uri: str, state: str, verifier: str) -> str:
    endpoint, _ = cfg.endpoints()
    params = {
        "response_type": "code",
        "client_id": cfg.client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        **cfg.extra_authorize_params,
    }
    if cfg.scopes:
        params["scope"] = " ".join(cfg.scopes)
    return f"{endpoint}?{urlencode(params)}"


async def _token_request(
    http: httpx.AsyncClient, cfg: ThirdPartyConfig, form: dict[str, str]
) -> dict[str, Any]:
    _, endpoint = cfg.endpoints()
    try:
        secret = resolve_secret(cfg.client_secret)
    except SecretError as exc:
        raise ThirdPartyError(str(exc)) from None
    data = {**form, "client_id": cfg.client_id, "client_secret": secret}
    try:
        response = await http.post(endpoint, data=data, headers={"Accept": "application/json"})
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ThirdPartyError(f"token endpoint unreachable: {type(exc).__name__}") from None
    if (
        response.status_code != 200
        or not isinstance(body, dict)
        or not isinstance(body.get("access_token"), str)
    ):
        code = body.get("error") if isinstance(body, dict) else None
        raise ThirdPartyError(f"token endpoint refused ({response.status_code} {code or 'no access_token'})")
    return body


def _bundle(body: dict[str, Any], previous_refresh: str | None, now: float) -> dict[str, Any]:
    expires_in = body.get("expires_in")
    return {
        "access_token": body["access_token"],
        "refresh_token": body.get("refresh_token") or previous_refresh,
        "expires_at": now + float(expires_in)
        if isinstance(expires_in, int | float) and expires_in > 0
        else None,
        "scope": body.get("scope"),
    }


class UserTokenSource:
    """Third-party tokens per (user, provider): stored sealed, refreshed, handed to upstream calls only."""

    def __init__(
        self,
        providers: dict[str, ThirdPartyConfig],
        store: OAuthStore,
        vault: Vault | None,
        http: httpx.AsyncClient,
    ) -> None:
        self.providers = providers
        self.store = store
        self.vault = vault
        self._http = http
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    @staticmethod
    def key(user: str, provider: str) -> str:
        return f"{provider}|{user}"

    def _vault(self) -> Vault:
        if self.vault is None:
            raise ThirdPartyError("no vault configured")
        return self.vault

    def has_token(self, user: str, provider: str) -> bool:
        return self.store.active("vault", self.key(user, provider)) is not None

    async def exchange_code(
        self, user: str, provider: str, *, code: str, redirect_uri: str, verifier: str
    ) -> None:
        cfg = self.providers[provider]
        body = await _token_request(
            self._http,
            cfg,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
        )
        self._save(user, provider, _bundle(body, None, time.time()))

    def _save(self, user: str, provider: str, bundle: dict[str, Any]) -> None:
        sealed = self._vault().seal(user, provider, bundle)
        self.store.put(
            "vault",
            self.key(user, provider),
            {"provider": provider, "sealed": sealed},
            user_id=user,
            grp=provider,
        )

    async def access_token(self, user: str, provider: str) -> str:
        """A valid access token of `user` at `provider`, refreshed when close to expiry."""
        if provider not in self.providers:
            raise ThirdPartyError(f"no third party named {provider!r}")
        lock = self._locks.setdefault((user, provider), asyncio.Lock())
        async with lock:
            record = self.store.active("vault", self.key(user, provider))
            if record is None:
                raise ThirdPartyError(
                    f"this user has not authorized {provider!r} yet (sign in through the gateway)"
                )
            try:
                bundle = self._vault().open(user, provider, record.data["sealed"])
            except VaultError as exc:
                raise ThirdPartyError(str(exc)) from None
            cfg = self.providers[provider]
            expires_at = bundle.get("expires_at")
            if isinstance(expires_at, int | float) and time.time() >= expires_at - cfg.refresh_skew:
                refresh = bundle.get("refresh_token")
                if not refresh:
                    raise ThirdPartyError(
                        f"the {provider!r} token expired and cannot be refreshed; authorize again"
                    )
                body = await _token_request(
                    self._http, cfg, {"grant_type": "refresh_token", "refresh_token": refresh}
                )
                bundle = _bundle(body, refresh, time.time())
                self._save(user, provider, bundle)
            return str(bundle["access_token"])
