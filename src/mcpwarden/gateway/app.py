"""The gateway's ASGI application: the MCP endpoints, health and readiness, and the edge.

Assembles what `front` serves (both protocol eras on `/mcp` and `/servers/<name>/mcp`)
behind the Host/Origin checks, CORS and the fast path, with the core's lifecycle.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from mcpwarden.gateway.core import GatewayCore
from mcpwarden.gateway.edge import McpFastPath, TransportSecurityMiddleware
from mcpwarden.gateway.front import Authenticator, McpEndpoint, anonymous

if TYPE_CHECKING:
    from mcpwarden.gateway.authn import GatewayAuth


def build_app(
    core: GatewayCore, authenticate: Authenticator = anonymous, *, auth: GatewayAuth | None = None
) -> ASGIApp:
    """The ASGI app. With `auth`, every MCP request is authenticated by it and its RFC 9728
    metadata routes are served (behind the same Host/Origin checks as everything else)."""
    if auth is not None:
        authenticate = auth
    # A bound method, so Starlette wraps it as a request/response endpoint.
    endpoint = McpEndpoint(core, authenticate).__call__

    async def health(_request: Request) -> Response:
        # 503 while an upstream's request pool is stalled: requests to it are failing for
        # want of a connection, and a health check that still said ok would hide that.
        healthy, pools = core.http_client.health()
        body = {
            "status": "ok" if healthy else "degraded",
            "sessions": len(core.sessions),
            "in_flight": core.in_flight.total(),
            "upstreams": pools,
            "replica": core.replica_id,
        }
        return JSONResponse(body, status_code=200 if healthy else 503)

    async def ready(_request: Request) -> Response:
        # Blocking pings (bounded by the store timeout) run off the event loop.
        import anyio

        ok, checks = await anyio.to_thread.run_sync(core.readiness)
        return JSONResponse(
            {"status": "ready" if ok else "not ready", **checks}, status_code=200 if ok else 503
        )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await core.start()
        if auth is not None:
            await auth.start()
        try:
            yield
        finally:
            if auth is not None:
                await auth.aclose()
            await core.stop()

    app = Starlette(
        routes=[
            Route("/mcp", endpoint, methods=["GET", "POST", "DELETE"]),
            Route("/servers/{name}/mcp", endpoint, methods=["GET", "POST", "DELETE"]),
            Route("/healthz", health, methods=["GET"]),
            Route("/readyz", ready, methods=["GET"]),
            *(auth.routes() if auth is not None else []),
        ],
        lifespan=lifespan,
    )
    from mcpwarden.gateway.cors import CorsMiddleware

    return TransportSecurityMiddleware(
        CorsMiddleware(McpFastPath(app, endpoint), core.config.security.cors_origins), core
    )
