"""Credentials the gateway presents to each upstream: never the client's own token.

MCP forbids token passthrough (PASS-01, TOK-05/08): a token the client obtained for the
gateway must not reach an upstream, or the upstream could replay it at the gateway, and
the upstream's own audit trail would be wrong. Every upstream therefore gets its own
credentials: none, a static secret (bearer or API key header), the gateway's OAuth
client credentials, or an RFC 8693 token exchange whose result names the upstream as
audience. As defence in depth, every provider checks its output against the client's
token and fails closed if the token would leak.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from mcpwarden.auth.cache import ExpiringLRU
from mcpwarden.auth.config import (
    ApiKeyCredentials,
    BearerCredentials,
    ClientCredentialsConfig,
    NoCredentials,
    TokenExchangeConfig,
    UpstreamCredentials,
    UserOAuthCredentials,
)
from mcpwarden.auth.discovery import DiscoveryError, discover
from mcpwarden.auth.http import basic_auth_header
from mcpwarden.auth.secrets import SecretError, resolve_secret
from mcpwarden.types import Principal

if TYPE_CHECKING:
    # Imported where a client is made or its errors caught: a gateway whose upstreams need no
    # OAuth grant (and every `wrap`) does not pay httpx's import at start.
    import httpx

TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"

# Headers that carry the client's credentials and must be dropped before forwarding.
INBOUND_CREDENTIAL_HEADERS = frozenset(["authorization", "proxy-authorization", "cookie"])


class UpstreamAuthError(Exception):
    """Upstream credentials could not be produced. Messages never contain secrets or tokens."""


def strip_credentials(headers: Iterable[tuple[str, str]], extra: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Forwardable headers: the client's Authorization, Cookie and API-key headers removed."""
    drop = INBOUND_CREDENTIAL_HEADERS | {name.lower() for name in extra}
    return [(name, value) for name, value in headers if name.lower() not in drop]


class UpstreamAuth:
    """Produces the credential headers for requests to one upstream."""

    async def headers(
        self, *, principal: Principal | None = None, subject_token: str | None = None
    ) -> dict[str, str]:
        """Headers to add to the upstream request; `subject_token` is the client's validated token.

        Raises UpstreamAuthError rather than ever returning headers containing that token.
        """
        produced = await self._produce(principal, subject_token)
        if subject_token and any(subject_token in value for value in produced.values()):
            raise UpstreamAuthError("refusing to forward the client's own token upstream")
        return produced

    async def _produce(self, principal: Principal | None, subject_token: str | None) -> dict[str, str]:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release resources (overridden by providers that own an HTTP client)."""


class NoUpstreamAuth(UpstreamAuth):
    async def _produce(self, principal: Principal | None, subject_token: str | None) -> dict[str, str]:
        return {}


class StaticBearerAuth(UpstreamAuth):
    def __init__(self, secret_ref: str) -> None:
        self._ref = secret_ref

    async def _produce(self, principal: Principal | None, subject_token: str | None) -> dict[str, str]:
        try:
            return {"Authorization": f"Bearer {resolve_secret(self._ref)}"}
        except SecretError as exc:
            raise UpstreamAuthError(str(exc)) from None


class ApiKeyAuth(UpstreamAuth):
    def __init__(self, header: str, secret_ref: str, prefix: str = "") -> None:
        self._header = header
        self._ref = secret_ref
        self._prefix = prefix

    async def _produce(self, principal: Principal | None, subject_token: str | None) -> dict[str, str]:
        try:
            return {self._header: f"{self._prefix}{resolve_secret(self._ref)}"}
        except SecretError as exc:
            raise UpstreamAuthError(str(exc)) from None


class _TokenEndpointClient(UpstreamAuth):
    """Shared plumbing for grants at the IdP's token endpoint."""

    def __init__(
        self,
        config: ClientCredentialsConfig | TokenExchangeConfig,
        *,
        default_issuer: str | None,
        client: httpx.AsyncClient | None,
        clock: Callable[[], float],
    ) -> None:
        self._config = config
        self._issuer = config.issuer or default_issuer
        self._own_client = client is None
        if client is None:
            import httpx

            client = httpx.AsyncClient(timeout=5.0, follow_redirects=False)
        self._client = client
        self._clock = clock
        self._token_endpoint = config.token_endpoint
        self.request_count = 0

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    async def _endpoint(self) -> str:
        if self._token_endpoint is None:
            if not self._issuer:
                raise UpstreamAuthError("no token_endpoint and no issuer to discover it from")
            try:
                metadata = await discover(self._client, self._issuer)
            except DiscoveryError as exc:
                raise UpstreamAuthError(str(exc)) from None
            endpoint = metadata.get("token_endpoint")
            if not isinstance(endpoint, str):
                raise UpstreamAuthError("issuer metadata has no token_endpoint")
            self._token_endpoint = endpoint
        return self._token_endpoint

    async def _request_token(self, form: dict[str, str]) -> tuple[str, float]:
        cfg = self._config
        try:
            secret = resolve_secret(cfg.client_secret)
        except SecretError as exc:
            raise UpstreamAuthError(str(exc)) from None
        data = dict(form)
        if cfg.scope:
            data["scope"] = " ".join(cfg.scope)
        if cfg.resource:
            data["resource"] = cfg.resource
        if cfg.audience:
            data["audience"] = cfg.audience
        headers = {"Accept": "application/json"}
        if cfg.auth_method == "client_secret_basic":
            headers["Authorization"] = basic_auth_header(cfg.client_id, secret)
        else:
            data.update(client_id=cfg.client_id, client_secret=secret)
        url = await self._endpoint()
        self.request_count += 1
        import httpx

        try:
            response = await self._client.post(url, data=data, headers=headers)
        except httpx.HTTPError as exc:
            raise UpstreamAuthError(f"token request failed: {type(exc).__name__}") from None
        body = _json_object(response)
        if response.status_code != 200:
            code = body.get("error") if isinstance(body.get("error"), str) else "unknown"
            raise UpstreamAuthError(f"token endpoint refused ({response.status_code} {code})")
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise UpstreamAuthError("token response has no access_token")
        token_type = body.get("token_type", "Bearer")
        if not isinstance(token_type, str) or token_type.lower() not in ("bearer", "n_a"):
            raise UpstreamAuthError(f"unsupported token_type {token_type!r}")
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 60.0
        return token, self._clock() + lifetime


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class ClientCredentialsAuth(_TokenEndpointClient):
    """The gateway's own token for the upstream, cached until shortly before it expires."""

    def __init__(
        self,
        config: ClientCredentialsConfig,
        *,
        default_issuer: str | None = None,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(config, default_issuer=default_issuer, client=client, clock=clock)
        self._token: tuple[str, float] | None = None
        self._lock = asyncio.Lock()

    async def _produce(self, principal: Principal | None, subject_token: str | None) -> dict[str, str]:
        skew = self._config.refresh_skew
        async with self._lock:
            if self._token is None or self._clock() >= self._token[1] - skew:
                self._token = await self._request_token({"grant_type": "client_credentials"})
            return {"Authorization": f"Bearer {self._token[0]}"}


class TokenExchangeAuth(_TokenEndpointClient):
    """RFC 8693: the client's token is the subject; the result is bound to the upstream.

    Results are cached per (principal, subject token): a new client token with other
    scopes gets its own exchange, so a cached exchange never outlives the grant it came from.
    """

    def __init__(
        self,
        config: TokenExchangeConfig,
        *,
        default_issuer: str | None = None,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(config, default_issuer=default_issuer, client=client, clock=clock)
        self._exchange_config = config
        self._cache: ExpiringLRU[tuple[str, bytes], str] = ExpiringLRU(config.cache_size)

    async def _produce(self, principal: Principal | None, subject_token: str | None) -> dict[str, str]:
        if not subject_token:
            raise UpstreamAuthError("token exchange needs the caller's validated token")
        key = (principal.key if principal else "-", hashlib.sha256(subject_token.encode()).digest())
        now = self._clock()
        cached = self._cache.get(key, now)
        if cached is None:
            token, expires_at = await self._request_token(
                {
                    "grant_type": TOKEN_EXCHANGE_GRANT,
                    "subject_token": subject_token,
                    "subject_token_type": ACCESS_TOKEN_TYPE,
                    "requested_token_type": self._exchange_config.requested_token_type,
                }
            )
            if token == subject_token:
                raise UpstreamAuthError("token endpoint returned the subject token unchanged")
            self._cache.put(key, token, expires_at - self._config.refresh_skew, now)
            cached = token
        return {"Authorization": f"Bearer {cached}"}


class UserTokens(Protocol):
    """Where per-user third-party tokens come from (the authorization server's token source)."""

    async def access_token(self, user: str, provider: str) -> str: ...


class UserOAuthAuth(UpstreamAuth):
    """The session user's own third-party token: bound to that user, never anyone else's.

    The token source is bound when the authorization server starts; until then, and for
    any principal that the gateway's own authorization server did not authenticate, the
    call fails closed rather than go upstream without (or with the wrong) authorization.
    """

    def __init__(self, config: UserOAuthCredentials) -> None:
        self.provider = config.provider
        self._source: UserTokens | None = None
        self._issuer: str | None = None

    def bind(self, source: UserTokens, issuer: str) -> None:
        self._source = source
        self._issuer = issuer

    async def _produce(self, principal: Principal | None, subject_token: str | None) -> dict[str, str]:
        if self._source is None:
            raise UpstreamAuthError("user_oauth credentials need the gateway's authorization_server")
        if principal is None or principal.issuer != self._issuer or not principal.subject:
            raise UpstreamAuthError("user_oauth credentials need a user signed in through this gateway")
        try:
            token = await self._source.access_token(principal.subject, self.provider)
        except Exception as exc:  # the source's errors never carry a token
            raise UpstreamAuthError(str(exc)) from None
        return {"Authorization": f"Bearer {token}"}


def build_upstream_auth(
    config: UpstreamCredentials,
    *,
    default_issuer: str | None = None,
    client: httpx.AsyncClient | None = None,
    clock: Callable[[], float] = time.time,
) -> UpstreamAuth:
    """The provider for one upstream's `credentials:` setting."""
    if isinstance(config, NoCredentials):
        return NoUpstreamAuth()
    if isinstance(config, BearerCredentials):
        return StaticBearerAuth(config.token)
    if isinstance(config, ApiKeyCredentials):
        return ApiKeyAuth(config.header, config.value, config.prefix)
    if isinstance(config, UserOAuthCredentials):
        return UserOAuthAuth(config)
    if isinstance(config, ClientCredentialsConfig):
        return ClientCredentialsAuth(config, default_issuer=default_issuer, client=client, clock=clock)
    return TokenExchangeAuth(config, default_issuer=default_issuer, client=client, clock=clock)


def contains_token(values: Mapping[str, str] | Iterable[str], token: str) -> bool:
    """Whether `token` appears anywhere in header values or body strings (for tests and audits)."""
    items = values.values() if isinstance(values, Mapping) else values
    return any(token in value for value in items)
