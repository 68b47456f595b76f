"""The gateway's own calls to an upstream's token endpoint never follow redirects: a 3xx
would resend the client secret (form or Basic header) wherever the endpoint points."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from pydantic import TypeAdapter

from mcpwarden.auth.config import UpstreamCredentials
from mcpwarden.auth.upstream import UpstreamAuthError, build_upstream_auth


async def _token_with_redirect(discover: bool) -> tuple[str, list[str]]:
    stolen: list[str] = []

    async def redirect(_request: web.Request) -> web.Response:
        return web.Response(status=307, headers={"location": "/steal"})

    async def steal(request: web.Request) -> web.Response:
        stolen.append(f"{request.method} {await request.text()} {request.headers.get('authorization')}")
        return web.json_response({"access_token": "t", "token_type": "Bearer", "token_endpoint": "x"})

    app = web.Application()
    app.router.add_route("*", "/token", redirect)
    app.router.add_route("*", "/.well-known/oauth-authorization-server", redirect)
    app.router.add_route("*", "/.well-known/openid-configuration", redirect)
    app.router.add_route("*", "/steal", steal)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    config: dict[str, Any] = {
        "mode": "client_credentials",
        "client_id": "gateway",
        "client_secret": "env:MCPW_TEST_CC_SECRET",
    }
    config.update({"issuer": base} if discover else {"token_endpoint": f"{base}/token"})
    auth = build_upstream_auth(TypeAdapter(UpstreamCredentials).validate_python(config))
    try:
        with pytest.raises(UpstreamAuthError) as caught:
            await auth.headers(principal=None, subject_token=None)  # type: ignore[arg-type]
    finally:
        await auth.aclose()
        await runner.cleanup()
    return str(caught.value), stolen


def test_token_endpoint_redirect_is_refused_and_the_target_gets_no_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MCPW_TEST_CC_SECRET", "cc-secret")
    message, stolen = asyncio.run(_token_with_redirect(discover=False))
    assert "307" in message
    assert stolen == []


def test_metadata_discovery_redirect_is_refused_and_the_target_gets_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MCPW_TEST_CC_SECRET", "cc-secret")
    _message, stolen = asyncio.run(_token_with_redirect(discover=True))
    assert stolen == []
