"""Access token validation: the gateway as an OAuth 2.1 resource server.

JWTs are verified locally against the issuer's cached JWKS; anything that is not a
JWS is sent to RFC 7662 introspection when that is configured. The checks follow
OAuth 2.1 §5.2, RFC 9068 and MCP authorization §Token Audience Binding: algorithm
allow-list (asymmetric only, decided before any key is touched so `none` and
HS256-with-the-public-key never reach a verifier), signature, exact issuer, exact
audience per endpoint (RFC 8707; canonicalized, never a prefix match), `exp` required,
`nbf`, `iat` not in the future, and `typ` when the IdP sends one.

Validated tokens are cached (bounded LRU, keyed by a hash of the token and the
resource) until they expire, so a client re-sending its token costs one dict lookup.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import orjson
from joserfc import jws
from joserfc.errors import JoseError

from mcpwarden.auth.cache import ExpiringLRU
from mcpwarden.auth.claims import first_string, roles_from_claims, scopes_from_claims
from mcpwarden.auth.config import AuthConfig
from mcpwarden.auth.discovery import DiscoveryError, discover
from mcpwarden.auth.errors import AuthError, invalid_token, unavailable
from mcpwarden.auth.introspection import IntrospectionError, Introspector
from mcpwarden.auth.jwks import JwksCache, JwksError
from mcpwarden.auth.resource import canonical_resource
from mcpwarden.auth.scopes import require_scopes
from mcpwarden.types import Principal

MAX_TOKEN_LENGTH = 16 * 1024


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """What a valid token proved. Holds a hash of the token, never the token itself."""

    principal: Principal
    scopes: frozenset[str]
    roles: frozenset[str]
    expires_at: float
    audience: tuple[str, ...]
    kind: Literal["jwt", "opaque"]
    token_hash: str


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class TokenValidator:
    """Validates bearer tokens for one issuer. Create once; share across requests."""

    def __init__(
        self,
        config: AuthConfig,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=config.http_timeout, follow_redirects=False)
        self._clock = clock
        self._monotonic = monotonic
        self._metadata: dict[str, Any] | None = None
        self._metadata_failed_at: float | None = None
        self._issuers = config.issuers
        self._algorithms = frozenset(config.algorithms)
        self._accepted_typ = frozenset(t.lower() for t in config.accepted_typ)
        self._default_audience = canonical_resource(config.audience) if config.audience else None
        self._aliases = frozenset(canonical_resource(a) for a in config.audience_aliases)
        self._endpoints = {
            canonical_resource(url): (
                frozenset(canonical_resource(a) for a in ep.audiences)
                or frozenset([canonical_resource(url)]),
                tuple(ep.required_scopes),
            )
            for url, ep in config.endpoints.items()
        }
        self.jwks = JwksCache(
            self._client,
            self._jwks_uri,
            ttl=config.jwks_cache_ttl,
            min_interval=config.jwks_refresh_min_interval,
            clock=monotonic,
        )
        self.introspector = (
            Introspector(config.introspection, self._client, self._introspection_endpoint, clock=clock)
            if config.introspection
            else None
        )
        self._cache: ExpiringLRU[tuple[bytes, str], VerifiedToken] = ExpiringLRU(config.token_cache_size)
        self.cache_hits = 0
        self.cache_misses = 0

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Discover metadata and load keys up front, so no request waits on the IdP."""
        await self.metadata()
        if self.config.jwks_uri or (self._metadata and "jwks_uri" in self._metadata):
            await self.jwks.prime()

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    async def metadata(self) -> dict[str, Any]:
        """The issuer's authorization server metadata (discovered once, then cached)."""
        if self._metadata is not None:
            return self._metadata
        now = self._monotonic()
        if (
            self._metadata_failed_at is not None
            and now - self._metadata_failed_at < self.config.jwks_refresh_min_interval
        ):
            raise DiscoveryError("metadata discovery failed recently; not retrying yet")
        try:
            self._metadata = await discover(
                self._client,
                self.config.issuer,
                mode=self.config.discovery,
                metadata_url=self.config.metadata_url,
                accepted_issuers=self._issuers,
            )
        except DiscoveryError:
            self._metadata_failed_at = now
            raise
        return self._metadata

    async def _jwks_uri(self) -> str:
        if self.config.jwks_uri:
            return self.config.jwks_uri
        uri = (await self.metadata()).get("jwks_uri")
        if not isinstance(uri, str):
            raise DiscoveryError("issuer metadata has no jwks_uri")
        return uri

    async def _introspection_endpoint(self) -> str:
        uri = (await self.metadata()).get("introspection_endpoint")
        if not isinstance(uri, str):
            raise DiscoveryError("issuer metadata has no introspection_endpoint")
        return uri

    # -- audiences and scopes ----------------------------------------------------------

    def accepted_audiences(self, resource: str) -> frozenset[str]:
        """Canonical `aud` values valid at `resource`: per endpoint, never shared between them."""
        canonical = canonical_resource(resource)
        endpoint = self._endpoints.get(canonical)
        if endpoint is not None:
            return endpoint[0]
        if self._default_audience is None or canonical == self._default_audience:
            return frozenset([canonical]) | self._aliases
        return frozenset([canonical])

    def required_scopes(self, resource: str) -> list[str]:
        """Scopes every request to `resource` needs (global plus the endpoint's own)."""
        endpoint = self._endpoints.get(canonical_resource(resource))
        extra = endpoint[1] if endpoint else ()
        return list(dict.fromkeys([*self.config.required_scopes, *extra]))

    # -- validation --------------------------------------------------------------------

    async def validate(self, token: str, *, resource: str) -> Principal:
        """The caller's Principal, or AuthError with the status and code to answer with."""
        return (await self.authenticate(token, resource=resource)).principal

    async def authenticate(self, token: str, *, resource: str) -> VerifiedToken:
        """Like `validate`, but also returns scopes, roles and expiry for policy and caching."""
        if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
            raise invalid_token("malformed token", "token.malformed")
        canonical = canonical_resource(resource)
        key = (hashlib.sha256(token.encode()).digest(), canonical)
        now = self._clock()
        verified = self._cache.get(key, now)
        if verified is None:
            self.cache_misses += 1
            verified = await self._verify(token, canonical, key[0].hex(), now)
            self._cache.put(key, verified, verified.expires_at, now)
        else:
            self.cache_hits += 1
        needed = self.required_scopes(canonical)
        if needed:
            require_scopes(verified.scopes, needed, strategy=self.config.insufficient_scope_strategy)
        return verified

    async def _verify(self, token: str, resource: str, token_hash: str, now: float) -> VerifiedToken:
        segments = token.split(".")
        if len(segments) == 3:
            claims = await self._verify_jws(token, segments)
            self._check_claims(claims, resource, now, require_exp=True)
            return self._result(claims, "jwt", token_hash, now)
        if self.introspector is None:
            raise invalid_token("token is not a signed JWT", "token.malformed")
        try:
            introspected = await self.introspector.introspect(token)
        except (IntrospectionError, DiscoveryError) as exc:
            raise unavailable(f"cannot introspect token: {exc}") from None
        if introspected is None:
            raise invalid_token("token is not active", "token.inactive")
        self._check_claims(introspected, resource, now, require_exp=False)
        return self._result(introspected, "opaque", token_hash, now)

    async def _verify_jws(self, token: str, segments: list[str]) -> dict[str, Any]:
        try:
            header = orjson.loads(_b64decode(segments[0]))
        except (ValueError, binascii.Error):
            raise invalid_token("malformed token header", "token.malformed") from None
        if not isinstance(header, dict):
            raise invalid_token("malformed token header", "token.malformed")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise invalid_token(f"signing algorithm {alg!r} is not accepted", "token.alg")
        if "crit" in header:
            raise invalid_token("critical header parameters are not supported", "token.crit")
        typ = header.get("typ")
        if typ is None:
            if self.config.require_typ:
                raise invalid_token("token has no typ header", "token.typ")
        elif not isinstance(typ, str) or typ.lower() not in self._accepted_typ:
            raise invalid_token(f"token type {typ!r} is not an access token", "token.typ")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise invalid_token("malformed key id", "token.malformed")
        try:
            key = await self.jwks.get(kid, alg)
        except (JwksError, DiscoveryError) as exc:
            raise unavailable(str(exc)) from None
        if key is None:
            raise invalid_token("token is signed with an unknown key", "token.kid")
        try:
            signature = jws.deserialize_compact(token, key, algorithms=[alg])
        except (JoseError, ValueError):
            raise invalid_token("token signature is invalid", "token.signature") from None
        try:
            claims = orjson.loads(signature.payload)
        except ValueError:
            raise invalid_token("token payload is not JSON", "token.malformed") from None
        if not isinstance(claims, dict):
            raise invalid_token("token payload is not a JSON object", "token.malformed")
        return claims

    def _check_claims(
        self, claims: Mapping[str, Any], resource: str, now: float, *, require_exp: bool
    ) -> None:
        leeway = self.config.leeway
        iss = claims.get("iss")
        # Introspection responses may omit `iss`: the answer came from our issuer anyway.
        if (require_exp or iss is not None) and iss not in self._issuers:
            raise invalid_token("token was issued by another issuer", "token.issuer")
        self._check_audience(claims.get("aud"), resource)
        exp = _number(claims.get("exp"))
        if claims.get("exp") is not None and exp is None:
            raise invalid_token("malformed exp claim", "token.malformed")
        if exp is None and require_exp:
            raise invalid_token("token has no expiry", "token.exp_missing")
        if exp is not None and now >= exp + leeway:
            raise invalid_token("token has expired", "token.expired")
        nbf = _number(claims.get("nbf"))
        if claims.get("nbf") is not None and nbf is None:
            raise invalid_token("malformed nbf claim", "token.malformed")
        if nbf is not None and now + leeway < nbf:
            raise invalid_token("token is not valid yet", "token.not_yet_valid")
        iat = _number(claims.get("iat"))
        if claims.get("iat") is not None and iat is None:
            raise invalid_token("malformed iat claim", "token.malformed")
        if iat is not None and iat > now + leeway:
            raise invalid_token("token claims to be issued in the future", "token.iat_future")
        limit = self.config.max_token_lifetime
        if limit is not None and exp is not None and iat is not None and exp - iat > limit + leeway:
            raise invalid_token("token lifetime exceeds the allowed maximum", "token.lifetime")

    def _check_audience(self, aud: Any, resource: str) -> None:
        if isinstance(aud, str):
            values = [aud]
        elif isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud):
            values = aud
        else:
            raise invalid_token("token has no audience", "token.audience")
        presented = {canonical_resource(a) for a in values}
        accepted = self.accepted_audiences(resource)
        if not presented & accepted:
            raise invalid_token("token was issued for another resource", "token.audience")
        if self.config.strict_audience and presented - accepted:
            raise invalid_token("token is also valid for other resources", "token.audience_extra")

    def _result(
        self, claims: dict[str, Any], kind: Literal["jwt", "opaque"], token_hash: str, now: float
    ) -> VerifiedToken:
        cfg = self.config
        subject = first_string(claims, [cfg.subject_claim, "sub"])
        client_id = first_string(claims, cfg.client_id_claims)
        if subject is None and kind == "opaque":
            # RFC 7662 makes `sub` optional; a client-credentials token's subject is its client.
            subject = client_id
        if subject is None:
            raise invalid_token("token has no subject", "token.subject")
        issuer = claims.get("iss") if isinstance(claims.get("iss"), str) else cfg.issuer
        principal = Principal(subject=subject, issuer=issuer, client_id=client_id, claims=dict(claims))
        aud = claims.get("aud")
        audience = (aud,) if isinstance(aud, str) else tuple(aud) if isinstance(aud, list) else ()
        exp = _number(claims.get("exp"))
        fallback_ttl = cfg.introspection.cache_ttl if cfg.introspection else 0.0
        expires_at = exp if exp is not None else now + fallback_ttl
        return VerifiedToken(
            principal=principal,
            scopes=scopes_from_claims(claims, cfg.scope_claims),
            roles=roles_from_claims(claims, cfg.role_claims),
            expires_at=expires_at,
            audience=audience,
            kind=kind,
            token_hash=token_hash,
        )


__all__ = ["AuthError", "TokenValidator", "VerifiedToken"]
