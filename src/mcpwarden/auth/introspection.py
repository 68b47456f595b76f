"""RFC 7662 token introspection for opaque access tokens, with a bounded cache.

Every opaque token would otherwise cost a round trip to the identity provider. Active
results are reused for at most `cache_ttl` seconds and never beyond the token's own
`exp`; inactive results are remembered briefly so that a flood of garbage tokens
costs the IdP one request per distinct token per `negative_cache_ttl`, not one each.
Only a hash of the token is kept as the cache key.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from mcpwarden.auth.cache import ExpiringLRU
from mcpwarden.auth.config import IntrospectionConfig
from mcpwarden.auth.http import basic_auth_header
from mcpwarden.auth.secrets import SecretError, resolve_secret


class IntrospectionError(Exception):
    """The introspection endpoint could not give an answer (not: the token is inactive)."""


class Introspector:
    def __init__(
        self,
        config: IntrospectionConfig,
        client: httpx.AsyncClient,
        endpoint: Callable[[], Awaitable[str]],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._client = client
        self._endpoint = endpoint
        self._clock = clock
        self._cache: ExpiringLRU[bytes, dict[str, Any] | None] = ExpiringLRU(config.cache_size)
        self.request_count = 0

    async def introspect(self, token: str) -> dict[str, Any] | None:
        """The introspection response of an active token, or None when it is not active."""
        key = hashlib.sha256(token.encode()).digest()
        now = self._clock()
        sentinel = self._cache.get(key, now)
        if sentinel is not None or self._has_negative(key, now):
            return sentinel
        result = await self._ask(token)
        now = self._clock()
        if result is None:
            if self._config.negative_cache_ttl > 0:
                self._negative(key, now)
            return None
        until = now + self._config.cache_ttl
        exp = result.get("exp")
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            until = min(until, float(exp))
        self._cache.put(key, result, until, now)
        return result

    # Inactive results are stored as an entry whose value is None; ExpiringLRU.get cannot
    # tell "absent" from "None", so negatives live under a distinct key.
    def _has_negative(self, key: bytes, now: float) -> bool:
        return self._cache.get(b"-" + key, now) is not None

    def _negative(self, key: bytes, now: float) -> None:
        self._cache.put(b"-" + key, {"active": False}, now + self._config.negative_cache_ttl, now)

    async def _ask(self, token: str) -> dict[str, Any] | None:
        try:
            secret = resolve_secret(self._config.client_secret)
        except SecretError as exc:
            raise IntrospectionError(str(exc)) from None
        url = self._config.endpoint or await self._endpoint()
        self.request_count += 1
        try:
            response = await self._client.post(
                url,
                data={"token": token, "token_type_hint": "access_token"},
                headers={
                    "Accept": "application/json",
                    "Authorization": basic_auth_header(self._config.client_id, secret),
                },
            )
        except httpx.HTTPError as exc:
            raise IntrospectionError(f"introspection request failed: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise IntrospectionError(f"introspection endpoint answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise IntrospectionError("introspection response is not JSON") from None
        if not isinstance(body, dict):
            raise IntrospectionError("introspection response is not a JSON object")
        return body if body.get("active") is True else None
