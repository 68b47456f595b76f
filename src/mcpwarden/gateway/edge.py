"""The ASGI edge in front of the MCP endpoints: Host/Origin checks and the fast path.

Host and Origin are validated on every request before any routing (the DNS-rebinding
defence); the two MCP endpoints then bypass Starlette's routing and exception middleware,
which cost a measurable share of the gateway's added latency.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from fnmatch import fnmatchcase

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.http_errors import error_response
from mcpwarden.gateway.services import GatewayServices

log = logging.getLogger("mcpwarden.front")


def _host_allowed(host: str, patterns: list[str]) -> bool:
    if not host:
        return False
    candidates = [host] if _has_port(host) else [host, f"{host}:80", f"{host}:443"]
    return any(fnmatchcase(c.lower(), p.lower()) for c in candidates for p in patterns)


def _has_port(host: str) -> bool:
    if host.startswith("["):
        return "]:" in host
    return ":" in host


class TransportSecurityMiddleware:
    """Host and Origin validation on every request, before routing (DNS-rebinding defence)."""

    def __init__(self, app: ASGIApp, core: GatewayServices) -> None:
        self.app = app
        self.core = core
        # The configured public URL's own host is always a legitimate Host header.
        public = core.config.public_url
        self.allowed_hosts = list(core.config.security.allowed_hosts)
        if public:
            self.allowed_hosts.append(public.split("://", 1)[1])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sec = self.core.config.security
        host = ""
        origin: str | None = None
        for key, value in scope["headers"]:
            if key == b"host":
                host = value.decode("latin-1")
            elif key == b"origin":
                origin = value.decode("latin-1")
        response: Response | None = None
        if not _host_allowed(host, self.allowed_hosts):
            response = error_response(421, "transport.bad_host", f"Host {host!r} is not allowed")
        elif origin is not None and not any(
            fnmatchcase(origin.lower(), p.lower()) for p in (*sec.allowed_origins, *sec.cors_origins)
        ):
            response = error_response(403, "transport.bad_origin", f"Origin {origin!r} is not allowed")
        if response is not None:
            self.core.audit_event(
                "rejected",
                reason="transport.bad_host" if response.status_code == 421 else "transport.bad_origin",
                status=response.status_code,
                details={"host": host, "origin": origin, "path": scope.get("path")},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class McpFastPath:
    """Serves the two MCP endpoints without Starlette's routing and exception middleware.

    They are the hot path (every JSON-RPC message), and the generic stack cost a measurable
    share of the gateway's added latency; everything else (health, metadata, lifespan) still
    goes through the Starlette app. Errors the endpoint does not handle become a 500 with a
    JSON-RPC body, as Starlette's ServerErrorMiddleware would have produced.
    """

    def __init__(self, app: ASGIApp, endpoint: Callable[[Request], Awaitable[Response]]) -> None:
        self.app = app
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            name = _mcp_endpoint_name(scope["path"])
            if name is not None:
                if scope["method"] not in ("GET", "POST", "DELETE"):
                    response: Response = error_response(
                        405,
                        "http.method",
                        f"method {scope['method']} not allowed",
                        headers={"allow": "GET, POST, DELETE"},
                    )
                else:
                    scope["path_params"] = {"name": name} if name else {}
                    try:
                        response = await self.endpoint(Request(scope, receive))
                    except Exception:
                        log.exception("unhandled error on %s", scope["path"])
                        response = error_response(
                            500, "gateway.internal", "internal gateway error", code=jsonrpc.INTERNAL_ERROR
                        )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _mcp_endpoint_name(path: str) -> str | None:
    """ "" for /mcp, the upstream name for /servers/<name>/mcp, None for anything else."""
    if path == "/mcp":
        return ""
    if path.startswith("/servers/") and path.endswith("/mcp"):
        name = path[len("/servers/") : -len("/mcp")]
        if name and "/" not in name:
            return name
    return None
