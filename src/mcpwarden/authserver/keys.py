"""The key that signs the access tokens this authorization server issues, and its JWKS.

Access tokens are RFC 9068 JWTs (`typ: at+jwt`) so the gateway's existing resource server
validates them exactly like tokens of any other issuer: by key id from the JWKS this
module publishes, with the algorithm fixed by the key type.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey, import_key

from mcpwarden.auth.secrets import resolve_secret


class SigningKey:
    """One private key (from a secret reference, or generated for this process)."""

    def __init__(self, key: RSAKey | ECKey) -> None:
        self._key = key
        self.alg = "RS256" if isinstance(key, RSAKey) else "ES256"
        public = key.as_dict(private=False)
        thumb = hashlib.sha256(repr(sorted(public.items())).encode()).hexdigest()[:16]
        self.kid = f"mcpwarden-{thumb}"

    @classmethod
    def load(cls, ref: str | None) -> SigningKey:
        if ref is None:
            return cls(RSAKey.generate_key(2048))
        key = import_key(resolve_secret(ref))
        if isinstance(key, ECKey) and key.as_dict(private=False).get("crv") != "P-256":
            raise ValueError("authorization_server.signing_key: EC keys must use P-256 (ES256)")
        if not isinstance(key, RSAKey | ECKey) or not key.is_private:
            raise ValueError("authorization_server.signing_key must be an RSA or EC P-256 private key")
        return cls(key)

    def jwks(self) -> dict[str, Any]:
        public = self._key.as_dict(private=False)
        return {"keys": [{**public, "kid": self.kid, "alg": self.alg, "use": "sig"}]}

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": self.alg, "kid": self.kid, "typ": "at+jwt"}
        return jwt.encode(header, claims, self._key, algorithms=[self.alg])


def access_token_claims(
    *,
    issuer: str,
    subject: str,
    client_id: str,
    audience: str,
    scope: str,
    ttl: int,
    jti: str,
    now: float | None = None,
) -> dict[str, Any]:
    """RFC 9068 claims: audience-bound to one gateway resource (RFC 8707)."""
    issued = int(now if now is not None else time.time())
    return {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "client_id": client_id,
        "scope": scope,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
        "jti": jti,
    }
