"""Upstream credential providers and introspection caching, with HTTP mocked."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from auth_testkit import RESOURCE, FakeIssuer
from pydantic import TypeAdapter

from mcpwarden.auth.config import UpstreamCredentials
from mcpwarden.auth.errors import AuthError
from mcpwarden.auth.http import basic_auth_header
from mcpwarden.auth.secrets import SecretError, resolve_secret
from mcpwarden.auth.upstream import UpstreamAuthError, build_upstream_auth, strip_credentials

pytestmark = pytest.mark.anyio

CLIENT_TOKEN = "client.token.value"


def _creds(data: dict[str, Any]) -> UpstreamCredentials:
    return TypeAdapter(UpstreamCredentials).validate_python(data)


class TokenEndpoint:
    def __init__(self, expires_in: int = 300, echo_subject: bool = False) -> None:
        self.requests: list[dict[str, list[str]]] = []
        self.expires_in = expires_in
        self.echo_subject = echo_subject

    def handler(self, request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        self.requests.append(form)
        token = form["subject_token"][0] if self.echo_subject else f"upstream-token-{len(self.requests)}"
        return httpx.Response(
            200, json={"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
        )

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))


def test_secret_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCPW_TEST_SECRET", "s3cret\n")
    assert resolve_secret("env:MCPW_TEST_SECRET") == "s3cret"


def test_secret_from_file(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("from-file\n")
    assert resolve_secret(f"file:{path}") == "from-file"


def test_missing_secret_error_does_not_leak_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MCPW_ABSENT", raising=False)
    with pytest.raises(SecretError, match="MCPW_ABSENT"):
        resolve_secret("env:MCPW_ABSENT")


async def test_none_mode_sends_no_credentials() -> None:
    provider = build_upstream_auth(_creds({"mode": "none"}))
    assert await provider.headers(subject_token=CLIENT_TOKEN) == {}


async def test_static_bearer_uses_secret_not_client_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTREAM_TOKEN", "upstream-static")
    provider = build_upstream_auth(_creds({"mode": "bearer", "token": "env:UPSTREAM_TOKEN"}))
    headers = await provider.headers(subject_token=CLIENT_TOKEN)
    assert headers == {"Authorization": "Bearer upstream-static"}


async def test_api_key_goes_in_configured_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTREAM_KEY", "k-123")
    provider = build_upstream_auth(
        _creds({"mode": "api_key", "header": "X-Api-Key", "value": "env:UPSTREAM_KEY", "prefix": "Key "})
    )
    assert await provider.headers(subject_token=CLIENT_TOKEN) == {"X-Api-Key": "Key k-123"}


async def test_static_secret_equal_to_client_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTREAM_TOKEN", CLIENT_TOKEN)
    provider = build_upstream_auth(_creds({"mode": "bearer", "token": "env:UPSTREAM_TOKEN"}))
    with pytest.raises(UpstreamAuthError):
        await provider.headers(subject_token=CLIENT_TOKEN)


def test_api_key_header_name_must_be_a_token() -> None:
    with pytest.raises(ValueError):
        _creds({"mode": "api_key", "header": "X-Key\r\nInjected: 1", "value": "env:K"})


async def test_client_credentials_token_is_cached_until_near_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_SECRET", "gw-secret")
    endpoint = TokenEndpoint(expires_in=100)
    now = [1000.0]
    provider = build_upstream_auth(
        _creds(
            {
                "mode": "client_credentials",
                "token_endpoint": "https://idp.example.test/token",
                "client_id": "gw",
                "client_secret": "env:GW_SECRET",
                "resource": "https://upstream.example.test/mcp",
                "refresh_skew": 10,
            }
        ),
        client=endpoint.client(),
        clock=lambda: now[0],
    )
    first = await provider.headers()
    now[0] += 50
    assert await provider.headers() == first
    now[0] += 45
    assert await provider.headers() != first
    assert len(endpoint.requests) == 2
    assert endpoint.requests[0]["resource"] == ["https://upstream.example.test/mcp"]


async def test_client_secret_post_sends_credentials_in_body(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_SECRET", "gw-secret")
    endpoint = TokenEndpoint()
    provider = build_upstream_auth(
        _creds(
            {
                "mode": "client_credentials",
                "token_endpoint": "https://idp.example.test/token",
                "client_id": "gw",
                "client_secret": "env:GW_SECRET",
                "auth_method": "client_secret_post",
            }
        ),
        client=endpoint.client(),
    )
    await provider.headers()
    assert endpoint.requests[0]["client_secret"] == ["gw-secret"]


async def test_token_exchange_without_client_token_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_SECRET", "gw-secret")
    provider = build_upstream_auth(
        _creds(
            {
                "mode": "token_exchange",
                "token_endpoint": "https://idp.example.test/token",
                "client_id": "gw",
                "client_secret": "env:GW_SECRET",
                "resource": "https://upstream.example.test/mcp",
            }
        ),
        client=TokenEndpoint().client(),
    )
    with pytest.raises(UpstreamAuthError):
        await provider.headers()


async def test_token_exchange_refuses_echoed_subject_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_SECRET", "gw-secret")
    provider = build_upstream_auth(
        _creds(
            {
                "mode": "token_exchange",
                "token_endpoint": "https://idp.example.test/token",
                "client_id": "gw",
                "client_secret": "env:GW_SECRET",
                "resource": "https://upstream.example.test/mcp",
            }
        ),
        client=TokenEndpoint(echo_subject=True).client(),
    )
    with pytest.raises(UpstreamAuthError):
        await provider.headers(subject_token=CLIENT_TOKEN)


async def test_token_exchange_is_cached_per_subject_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_SECRET", "gw-secret")
    endpoint = TokenEndpoint()
    provider = build_upstream_auth(
        _creds(
            {
                "mode": "token_exchange",
                "token_endpoint": "https://idp.example.test/token",
                "client_id": "gw",
                "client_secret": "env:GW_SECRET",
                "resource": "https://upstream.example.test/mcp",
            }
        ),
        client=endpoint.client(),
    )
    a1 = await provider.headers(subject_token="token-a")
    a2 = await provider.headers(subject_token="token-a")
    b = await provider.headers(subject_token="token-b")
    assert a1 == a2 != b
    assert len(endpoint.requests) == 2


def test_strip_credentials_drops_client_credentials() -> None:
    headers = [
        ("Authorization", "Bearer c"),
        ("Cookie", "s=1"),
        ("Proxy-Authorization", "x"),
        ("X-Api-Key", "k"),
        ("Accept", "application/json"),
    ]
    assert strip_credentials(headers, extra=["x-api-key"]) == [("Accept", "application/json")]


def test_basic_auth_header_form_encodes_credentials() -> None:
    import base64

    decoded = base64.b64decode(basic_auth_header("a:b", "c d").split()[1]).decode()
    assert decoded == "a%3Ab:c+d"


def _introspection_idp(responses: list[dict[str, Any]]) -> FakeIssuer:
    calls = iter(responses)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(calls))

    return FakeIssuer(introspection=answer)


def _introspecting_validator(idp: FakeIssuer, clock: Any = time.time, **extra: Any) -> Any:
    introspection = {"client_id": "gw", "client_secret": "env:GW_SECRET", **extra}
    return idp.validator(clock=clock, introspection=introspection)


async def test_opaque_token_is_accepted_after_introspection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_SECRET", "gw-secret")
    now = int(time.time())
    idp = _introspection_idp([{"active": True, "sub": "u", "aud": RESOURCE, "exp": now + 60, "scope": "a"}])
    verified = await _introspecting_validator(idp).authenticate("opaque-1", resource=RESOURCE)
    assert (verified.kind, verified.principal.subject, verified.scopes) == ("opaque", "u", {"a"})


async def test_inactive_opaque_token_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_SECRET", "gw-secret")
    idp = _introspection_idp([{"active": False}])
    with pytest.raises(AuthError) as info:
        await _introspecting_validator(idp).validate("opaque-1", resource=RESOURCE)
    assert (info.value.status, info.value.reason) == (401, "token.inactive")


async def test_introspected_token_for_other_audience_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_SECRET", "gw-secret")
    idp = _introspection_idp([{"active": True, "sub": "u", "aud": "https://other.example.test/mcp"}])
    with pytest.raises(AuthError) as info:
        await _introspecting_validator(idp).validate("opaque-1", resource=RESOURCE)
    assert info.value.reason == "token.audience"


async def test_introspection_cache_is_capped_by_token_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_SECRET", "gw-secret")
    now = [float(int(time.time()))]
    exp = now[0] + 20
    active = {"active": True, "sub": "u", "aud": RESOURCE, "exp": exp}
    idp = _introspection_idp([active, {"active": False}])
    validator = _introspecting_validator(idp, clock=lambda: now[0], cache_ttl=600)
    await validator.validate("opaque-1", resource=RESOURCE)
    validator._cache.clear()  # isolate the introspection cache from the validated-token cache
    now[0] += 10
    await validator.validate("opaque-1", resource=RESOURCE)
    assert validator.introspector.request_count == 1
    now[0] += 15  # past exp: the cached introspection result must not be reused
    validator._cache.clear()
    with pytest.raises(AuthError):
        await validator.validate("opaque-1", resource=RESOURCE)
    assert validator.introspector.request_count == 2


async def test_inactive_results_are_cached_briefly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_SECRET", "gw-secret")
    idp = _introspection_idp([{"active": False}, {"active": False}])
    validator = _introspecting_validator(idp, negative_cache_ttl=60)
    for _ in range(3):
        with pytest.raises(AuthError):
            await validator.validate("garbage", resource=RESOURCE)
    assert validator.introspector.request_count == 1
