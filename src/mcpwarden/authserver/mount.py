"""Mounting the authorization server in the gateway process.

The gateway's resource server validates the tokens this server issues like any other
issuer's: discovery and JWKS are fetched from this server's own endpoints, in process
(an ASGI transport), so start-up never waits on a socket to itself. Upstreams with
`user_oauth` credentials are bound to the third-party token source here.

Audit records written from here pass through `redacted`: a field that could hold a code,
token, secret or ID token is dropped, whatever event writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mcpwarden.auth.tokens import TokenValidator
from mcpwarden.auth.upstream import UserOAuthAuth
from mcpwarden.authserver.browser_flow import BrowserFlow
from mcpwarden.authserver.endpoints import Endpoints
from mcpwarden.authserver.service import AuthorizationService, open_oauth_store, upstream_providers
from mcpwarden.store.base import StoreUnavailable

if TYPE_CHECKING:
    from mcpwarden.config import GatewayConfig
    from mcpwarden.gateway.core import GatewayCore

SENSITIVE = frozenset(
    {
        "code",
        "access_token",
        "refresh_token",
        "token",
        "id_token",
        "client_secret",
        "code_verifier",
        "password",
    }
)


def redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: redacted(v) for k, v in value.items() if str(k).lower() not in SENSITIVE}
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value


def guarded(routes: list[Route], audit: Any) -> list[Route]:
    """The routes, each answering 503 `store.unavailable` (audited) when the store is away.

    Every decision here needs the store (codes, consents, refresh families): failing closed
    with a reason beats a bare 500, and the gateway's other endpoints keep being served.
    """

    def wrap(endpoint: Any) -> Any:
        async def call(request: Request) -> Response:
            try:
                response: Response = await endpoint(request)
            except StoreUnavailable as exc:
                audit("rejected", reason="store.unavailable", status=503, message=str(exc),
                      details={"path": request.url.path})  # fmt: skip
                return JSONResponse(
                    {
                        "error": "temporarily_unavailable",
                        "error_description": "authorization store unavailable",
                    },
                    status_code=503,
                    headers={"cache-control": "no-store", "retry-after": "5"},
                )
            return response

        return call

    return [Route(r.path, wrap(r.endpoint), methods=list(r.methods or [])) for r in routes]


@dataclass
class MountedAuthorization:
    service: AuthorizationService
    routes: list[Route]
    validator: TokenValidator

    async def aclose(self) -> None:
        await self.service.aclose()


def mount_authorization(core: GatewayCore, config: GatewayConfig) -> MountedAuthorization:
    as_config = config.authorization_server
    assert as_config is not None and config.auth is not None
    base = core.public_base
    aggregated = config.auth.audience or f"{base}/mcp"
    per_upstream = {name: f"{base}/servers/{name}/mcp" for name in config.upstreams}

    def audit(event: str, **fields: Any) -> None:
        core.audit_event(event, **redacted(fields))

    pool = core.backends.pool if core.backends is not None else None
    service = AuthorizationService(
        as_config,
        store=open_oauth_store(config, pool),
        resources=[aggregated, *per_upstream.values()],
        upstream_resources=per_upstream,
        providers_by_upstream=upstream_providers(config),
        audit=audit,
    )
    endpoints = Endpoints(service)
    flow = BrowserFlow(service)
    self_client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=Starlette(routes=endpoints.routes())),
        timeout=config.auth.http_timeout,
    )
    validator = TokenValidator(config.auth, client=self_client)
    for provider in core.upstream_auth.values():
        if isinstance(provider, UserOAuthAuth):
            provider.bind(service.tokens, as_config.issuer)
    routes = guarded([*endpoints.routes(), *flow.routes()], audit)
    return MountedAuthorization(service, routes, validator)
