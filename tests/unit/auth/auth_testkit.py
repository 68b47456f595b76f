"""Fixture keys and a fake issuer for auth unit tests (shared helpers, imported by tests).

Unit tests that need a *trusted* signature on claims no real provider would issue
(missing `exp`, Entra-shaped tokens) use this issuer: its metadata and JWKS are served
through httpx.MockTransport, and it counts fetches so tests can prove keys are not
fetched per request. Tests against the real provider live in tests/integration/auth.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc import jws
from joserfc.jwk import ECKey, RSAKey

from mcpwarden.auth.config import AuthConfig
from mcpwarden.auth.tokens import TokenValidator

ISSUER = "https://idp.example.test"
RESOURCE = "https://gw.example.test/mcp"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A JWS with an empty signature, as an `alg: none` attacker would send it."""
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


def hmac_token(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 token keyed with `secret` (the classic RSA-public-key-as-HMAC-secret attack)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(secret, signing_input.encode(), "sha256").digest()
    return f"{signing_input}.{b64(mac)}"


def sign(key: RSAKey | ECKey, claims: dict[str, Any], **header: Any) -> str:
    protected = {"alg": "RS256" if isinstance(key, RSAKey) else "ES256", "kid": key.kid, "typ": "at+jwt"}
    protected.update(header)
    protected = {k: v for k, v in protected.items() if v is not None}
    return jws.serialize_compact(protected, json.dumps(claims).encode(), key, algorithms=[protected["alg"]])


def raw_rs256(key: RSAKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """RS256 over arbitrary headers (joserfc refuses to produce some of the ones we test)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    private = key.private_key
    assert isinstance(private, rsa.RSAPrivateKey)
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


@dataclass
class FakeIssuer:
    issuer: str = ISSUER
    keys: list[RSAKey | ECKey] = field(default_factory=list)
    metadata_fetches: int = 0
    jwks_fetches: int = 0
    up: bool = True
    extra_metadata: dict[str, Any] = field(default_factory=dict)
    introspection: Callable[[httpx.Request], httpx.Response] | None = None

    def __post_init__(self) -> None:
        if not self.keys:
            self.keys = [RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})]

    @classmethod
    def shared(cls) -> FakeIssuer:
        """One issuer reused across hypothesis examples (RSA key generation is slow)."""
        global _SHARED
        if _SHARED is None:
            _SHARED = cls()
        return _SHARED

    @property
    def key(self) -> RSAKey | ECKey:
        return self.keys[0]

    def handler(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            raise httpx.ConnectError("issuer down", request=request)
        path = request.url.path
        if "/.well-known/oauth-authorization-server" in path or "/.well-known/openid-configuration" in path:
            self.metadata_fetches += 1
            return httpx.Response(
                200,
                json={
                    "issuer": self.issuer,
                    "jwks_uri": f"{self.issuer}/jwks",
                    "token_endpoint": f"{self.issuer}/token",
                    "introspection_endpoint": f"{self.issuer}/introspect",
                    **self.extra_metadata,
                },
            )
        if path.endswith("/jwks"):
            self.jwks_fetches += 1
            return httpx.Response(200, json={"keys": [k.as_dict(private=False) for k in self.keys]})
        if path.endswith("/introspect") and self.introspection is not None:
            return self.introspection(request)
        return httpx.Response(404)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "user-1",
            "aud": RESOURCE,
            "iat": now,
            "exp": now + 300,
            "scope": "mcp:tools mcp:read",
            "client_id": "client-1",
            "roles": ["mcp.user"],
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(
        self, key: RSAKey | ECKey | None = None, header: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        return sign(key or self.key, self.claims(**claims), **(header or {}))

    def validator(self, clock: Callable[[], float] = time.time, **config: Any) -> TokenValidator:
        settings: dict[str, Any] = {"issuer": self.issuer}
        settings.update(config)
        return TokenValidator(AuthConfig(**settings), client=self.client(), clock=clock)


_SHARED: FakeIssuer | None = None
