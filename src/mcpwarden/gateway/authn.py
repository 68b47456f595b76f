"""The HTTP front as an OAuth 2.1 resource server: per-request authentication and RFC 9728.

Every request to an MCP endpoint (POST, GET and DELETE alike) is authenticated from its
own Authorization header; a session id is never a credential (MCP SESS-02/TOK-02). The
audience a token must carry is the canonical URL of the endpoint that was hit, built from
the configured public URL and never from request headers, so neither a rebinding Host
nor a forged `X-Forwarded-*` can make the gateway accept a token meant for another
resource, and a token for `/servers/a/mcp` is refused at `/servers/b/mcp` (TOK-04).

One `TokenValidator` serves the whole process: keys and metadata are loaded when the
gateway starts and validated tokens are cached, so no request waits on the IdP.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mcpwarden.auth import (
    AuthConfig,
    AuthError,
    TokenValidator,
    challenge_for,
    extract_bearer,
    metadata_url,
    protected_resource_metadata,
)
from mcpwarden.auth.discovery import DiscoveryError
from mcpwarden.auth.errors import missing_credentials
from mcpwarden.auth.jwks import JwksError
from mcpwarden.auth.metadata import PRM_WELL_KNOWN
from mcpwarden.gateway.http_errors import HttpRejection, error_response
from mcpwarden.types import Principal

if TYPE_CHECKING:
    from mcpwarden.authserver.mount import MountedAuthorization
    from mcpwarden.gateway.core import GatewayCore

log = logging.getLogger("mcpwarden.gateway.auth")

AGGREGATED_ENDPOINT = "/mcp"


def endpoint_path(upstream: str | None) -> str:
    return f"/servers/{upstream}/mcp" if upstream else AGGREGATED_ENDPOINT


class GatewayAuth:
    """Authenticates MCP requests with bearer tokens and serves protected resource metadata."""

    def __init__(
        self,
        core: GatewayCore,
        config: AuthConfig,
        validator: TokenValidator | None = None,
        authorization: MountedAuthorization | None = None,
    ) -> None:
        """`authorization`: the gateway's own authorization server (its routes are served too)."""
        self.core = core
        self.config = config
        self.authorization = authorization
        self.validator = validator or (authorization.validator if authorization else TokenValidator(config))

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Load the issuer's metadata and keys before serving.

        An unreachable IdP does not stop the gateway: requests are answered 503 until the
        validator's rate-limited retry succeeds, and the failure is audited.
        """
        try:
            await self.validator.start()
        except (DiscoveryError, JwksError) as exc:
            log.warning("identity provider not reachable at start-up: %s", exc)
            self.core.audit_event("auth.idp_unavailable", reason="auth.idp_unavailable", message=str(exc))

    async def aclose(self) -> None:
        await self.validator.aclose()
        if self.authorization is not None:
            await self.authorization.aclose()

    # -- resources ---------------------------------------------------------------------

    def resource(self, endpoint: str) -> str:
        """The canonical resource URL of an endpoint: the audience its tokens must name."""
        if endpoint == AGGREGATED_ENDPOINT and self.config.audience:
            return self.config.audience
        return self.core.public_base + endpoint

    def baseline_scopes(self, resource: str) -> list[str]:
        return self.validator.required_scopes(resource)

    # -- per request -------------------------------------------------------------------

    async def __call__(self, request: Request) -> Principal:
        """The caller's principal, or HttpRejection carrying the RFC 6750 challenge."""
        resource = self.resource(endpoint_path(request.path_params.get("name")))
        try:
            token = extract_bearer(request.headers, request.query_params)
            if token is None:
                raise missing_credentials()
            verified = await self.validator.authenticate(token, resource=resource)
        except AuthError as exc:
            challenge = challenge_for(
                exc, metadata_url(resource), default_scope=self.baseline_scopes(resource)
            )
            raise HttpRejection(
                exc.status, exc.reason, exc.description, headers={"www-authenticate": challenge}
            ) from None
        # The session layer needs the token itself only as the subject of a token exchange.
        request.state.bearer = token
        request.state.verified = verified
        return verified.principal

    # -- RFC 9728 ------------------------------------------------------------------------

    async def metadata(self, request: Request) -> Response:
        name = request.path_params.get("name")
        if name is not None and name not in self.core.config.upstreams:
            return error_response(404, "endpoint.unknown_upstream", f"no upstream named {name!r}")
        resource = self.resource(endpoint_path(name))
        document = protected_resource_metadata(
            resource,
            [self.config.issuer],
            scopes_supported=self.baseline_scopes(resource),
            resource_name=f"mcpwarden {name}" if name else "mcpwarden",
        )
        return JSONResponse(document, headers={"cache-control": "max-age=300"})

    def routes(self) -> list[Route]:
        """The root well-known URL (describing /mcp) and the path-inserted ones per endpoint."""
        return [
            Route(PRM_WELL_KNOWN, self.metadata, methods=["GET"]),
            Route(PRM_WELL_KNOWN + AGGREGATED_ENDPOINT, self.metadata, methods=["GET"]),
            Route(PRM_WELL_KNOWN + "/servers/{name}/mcp", self.metadata, methods=["GET"]),
            *(self.authorization.routes if self.authorization is not None else []),
        ]
