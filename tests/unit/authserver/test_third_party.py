"""Per-user third-party tokens: sealed per (user, provider) and refreshed before they expire.

The third party's token endpoint is an `httpx.MockTransport` that records each grant, so a
test sees exactly when the gateway refreshes and with which refresh token.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from mcpwarden.authserver.config import ThirdPartyConfig
from mcpwarden.authserver.store import SQLiteOAuthStore
from mcpwarden.authserver.thirdparty import ThirdPartyError, UserTokenSource
from mcpwarden.authserver.vault import Vault

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class TokenEndpoint:
    def __init__(self, expires_in: int) -> None:
        self.grants: list[dict[str, list[str]]] = []
        self.expires_in = expires_in

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        self.grants.append(form)
        n = len(self.grants)
        return httpx.Response(
            200,
            json={
                "access_token": f"access-{n}",
                "refresh_token": f"refresh-{n}",
                "expires_in": self.expires_in,
            },
        )


def source(tmp_path: Path, endpoint: TokenEndpoint) -> UserTokenSource:
    (tmp_path / "secret").write_text("client-secret")
    (tmp_path / "key").write_text(secrets.token_hex(32))
    provider = ThirdPartyConfig(
        authorization_endpoint="https://tp.example/authorize",
        token_endpoint="https://tp.example/token",
        client_id="gw",
        client_secret=f"file:{tmp_path / 'secret'}",
        refresh_skew=60,
    )
    http = httpx.AsyncClient(transport=httpx.MockTransport(endpoint))
    return UserTokenSource(
        {"tp": provider}, SQLiteOAuthStore(tmp_path / "s.sqlite3"), Vault([f"file:{tmp_path / 'key'}"]), http
    )


async def test_a_token_close_to_expiry_is_refreshed_with_the_stored_refresh_token(tmp_path: Path) -> None:
    endpoint = TokenEndpoint(expires_in=30)  # inside the 60 s refresh skew: stale at once
    tokens = source(tmp_path, endpoint)
    await tokens.exchange_code("alice", "tp", code="c", redirect_uri="https://gw/cb", verifier="v" * 43)
    assert await tokens.access_token("alice", "tp") == "access-2"
    assert endpoint.grants[1]["grant_type"] == ["refresh_token"]
    assert endpoint.grants[1]["refresh_token"] == ["refresh-1"]


async def test_a_fresh_token_is_used_without_a_request(tmp_path: Path) -> None:
    endpoint = TokenEndpoint(expires_in=3600)
    tokens = source(tmp_path, endpoint)
    await tokens.exchange_code("alice", "tp", code="c", redirect_uri="https://gw/cb", verifier="v" * 43)
    assert await tokens.access_token("alice", "tp") == "access-1"
    assert len(endpoint.grants) == 1


async def test_another_user_has_no_token_even_when_one_user_has(tmp_path: Path) -> None:
    tokens = source(tmp_path, TokenEndpoint(expires_in=3600))
    await tokens.exchange_code("alice", "tp", code="c", redirect_uri="https://gw/cb", verifier="v" * 43)
    with pytest.raises(ThirdPartyError, match="not authorized"):
        await tokens.access_token("bob", "tp")


async def test_the_stored_record_holds_no_token_in_clear(tmp_path: Path) -> None:
    tokens = source(tmp_path, TokenEndpoint(expires_in=3600))
    await tokens.exchange_code("alice", "tp", code="c", redirect_uri="https://gw/cb", verifier="v" * 43)
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("s.sqlite3*"))  # the file and its WAL
    assert b"provider" in stored and b"access-1" not in stored and b"refresh-1" not in stored
