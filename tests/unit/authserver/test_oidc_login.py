"""Signing in at the enterprise IdP: only an ID token with our nonce, audience and issuer counts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from mcpwarden.authserver.config import IdpConfig
from mcpwarden.authserver.oidc_login import LoginError, OidcLogin

pytestmark = pytest.mark.anyio

ISSUER = "https://idp.example"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def idp(key: RSAKey, claims: dict[str, Any]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={
                "issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/auth",
                "token_endpoint": f"{ISSUER}/token", "jwks_uri": f"{ISSUER}/jwks",
            })  # fmt: skip
        if path == "/jwks":
            return httpx.Response(200, json={"keys": [{**key.as_dict(private=False), "kid": "k1"}]})
        token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        return httpx.Response(200, json={"id_token": token, "access_token": "x", "token_type": "Bearer"})

    return httpx.MockTransport(handle)


def good_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": "gw",
        "sub": "alice",
        "nonce": "n-1",
        "iat": now,
        "exp": now + 300,
        **changes,
    }


async def finish(tmp_path: Path, claims: dict[str, Any]) -> str:
    (tmp_path / "secret").write_text("s")
    config = IdpConfig(issuer=ISSUER, client_id="gw", client_secret=f"file:{tmp_path / 'secret'}")
    async with httpx.AsyncClient(transport=idp(RSAKey.generate_key(2048), claims)) as client:
        return await OidcLogin(config, client).finish(
            code="c", redirect_uri="https://gw/cb", verifier="v" * 43, nonce="n-1"
        )


async def test_a_valid_id_token_signs_in_its_subject(tmp_path: Path) -> None:
    assert await finish(tmp_path, good_claims()) == "alice"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"nonce": "other"}, "nonce"),
        ({"aud": "another-client"}, "audience"),
        ({"iss": "https://evil.example"}, "issuer"),
        ({"exp": int(time.time()) - 3600}, "expiry"),
    ],
)
async def test_an_id_token_with_a_wrong_claim_is_refused(
    tmp_path: Path, changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(LoginError, match=problem):
        await finish(tmp_path, good_claims(**changes))
