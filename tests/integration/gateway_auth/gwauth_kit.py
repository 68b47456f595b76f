"""Helpers for the gateway auth tests (imported by the tests and by conftest.py)."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jws
from joserfc.jwk import RSAKey

from gwtest.procs import Gateway

TRUSTED_TEST_KID = "gateway-test-trusted"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
    )


@dataclass
class Keys:
    """A key the gateway trusts (published next to the provider's) for claim-level forgeries."""

    trusted: RSAKey
    jwks_uri: str

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        head = {"alg": "RS256", "kid": TRUSTED_TEST_KID, "typ": "at+jwt", **header}
        return jws.serialize_compact(head, json.dumps(claims).encode(), self.trusted)


def claims_for(issuer: str, audience: str | list[str], **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": "mallory",
        "client_id": "service-client",
        "aud": audience,
        "iat": now,
        "exp": now + 300,
        "scope": "mcp:tools",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def auth_config(oidc_provider: Any, keys: Keys, **extra: Any) -> dict[str, Any]:
    return {"issuer": oidc_provider.issuer, "jwks_uri": keys.jwks_uri, "leeway": 5, **extra}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def audited(gw: Gateway, reason: str, event: str | None = None) -> list[dict[str, Any]]:
    return [r for r in gw.audit() if r.get("reason") == reason and (event is None or r["event"] == event)]


def reason_of(resp: httpx.Response) -> str:
    return str(resp.json()["error"]["data"]["reason"])
