"""The issuer's signing keys, cached, with refreshes that an attacker cannot force.

Keys are fetched once, refreshed when older than `ttl`, and re-fetched early only when
a token names a `kid` we do not know (key rotation) — and then at most once per
`min_interval`, so a flood of tokens with random `kid`s costs one fetch, not one per
request. Symmetric (`oct`) keys in a JWKS are ignored: a published secret is no secret.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from joserfc.jwk import ECKey, OKPKey, RSAKey, import_key

PublicKey = RSAKey | ECKey | OKPKey

_EC_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}


class JwksError(Exception):
    """The key set could not be fetched or parsed."""


def key_fits(key: PublicKey, alg: str) -> bool:
    """Whether `key` may verify a signature made with `alg` (key type, curve, alg, use)."""
    params = key.as_dict(private=False)
    if params.get("use") not in (None, "sig"):
        return False
    if params.get("alg") not in (None, alg):
        return False
    if alg.startswith(("RS", "PS")):
        return isinstance(key, RSAKey)
    if alg in _EC_CURVES:
        return isinstance(key, ECKey) and params.get("crv") == _EC_CURVES[alg]
    if alg == "EdDSA":
        return isinstance(key, OKPKey) and params.get("crv") in ("Ed25519", "Ed448")
    return False


def parse_jwks(document: Any) -> list[tuple[str | None, PublicKey]]:
    """Public signing keys from a JWKS document; unusable or symmetric entries are skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksError("JWKS document has no 'keys' array")
    keys: list[tuple[str | None, PublicKey]] = []
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") not in ("RSA", "EC", "OKP"):
            continue
        public = {k: v for k, v in entry.items() if k not in ("d", "p", "q", "dp", "dq", "qi", "oth")}
        try:
            key = import_key(public)
        except Exception:  # one malformed key must not disable the others
            continue
        if isinstance(key, RSAKey | ECKey | OKPKey):
            kid = entry.get("kid")
            keys.append((kid if isinstance(kid, str) else None, key))
    return keys


class JwksCache:
    """Keys for one issuer. `uri` is a coroutine so discovery can happen lazily."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        uri: Callable[[], Awaitable[str]],
        *,
        ttl: float = 3600.0,
        min_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._uri = uri
        self._ttl = ttl
        self._min_interval = min_interval
        self._clock = clock
        self._keys: list[tuple[str | None, PublicKey]] = []
        self._loaded_at: float | None = None
        self._last_attempt: float | None = None
        self._lock = asyncio.Lock()
        self.fetch_count = 0

    def _may_fetch(self) -> bool:
        return self._last_attempt is None or self._clock() - self._last_attempt >= self._min_interval

    async def _refresh(self) -> None:
        async with self._lock:
            if not self._may_fetch():
                return  # another task refreshed while we waited
            self._last_attempt = self._clock()
            self.fetch_count += 1
            try:
                uri = await self._uri()
                response = await self._client.get(uri, headers={"Accept": "application/json"})
                response.raise_for_status()
                keys = parse_jwks(response.json())
            except (httpx.HTTPError, ValueError, JwksError) as exc:
                if self._loaded_at is None:
                    raise JwksError(f"cannot load signing keys: {type(exc).__name__}") from None
                return  # keep serving the keys we have
            self._keys = keys
            self._loaded_at = self._clock()

    def _find(self, kid: str | None, alg: str) -> PublicKey | None:
        if kid is not None:
            for key_kid, key in self._keys:
                if key_kid == kid and key_fits(key, alg):
                    return key
            return None
        fitting = [key for _, key in self._keys if key_fits(key, alg)]
        return fitting[0] if len(fitting) == 1 else None

    async def get(self, kid: str | None, alg: str) -> PublicKey | None:
        """The key for `kid` and `alg`, refreshing (rate-limited) on a miss or when stale."""
        if self._loaded_at is None:
            await self._refresh()
            if self._loaded_at is None:
                raise JwksError("signing keys are not available yet")
        elif self._clock() - self._loaded_at >= self._ttl and self._may_fetch():
            await self._refresh()
        key = self._find(kid, alg)
        if key is None and self._may_fetch():
            await self._refresh()
            key = self._find(kid, alg)
        return key

    async def prime(self) -> None:
        """Load keys now (at start-up) so the first request does not pay for the fetch."""
        if self._loaded_at is None:
            await self._refresh()
