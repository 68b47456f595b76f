"""CORS for browser-based MCP clients (the MCP Inspector in direct mode, web apps), off unless
`security.cors_origins` lists the origins allowed.

Why it is opt-in: a browser page from any site the user visits can send requests to a loopback
gateway; the Origin check (edge.py) refuses origins that are not allowed, and without CORS
headers the browser also refuses to let the page read answers. Listing an origin here lets
pages from exactly that origin call the gateway and read the headers a client needs:
`Mcp-Session-Id` (to continue the session), `WWW-Authenticate` (to find the authorization
server), `Mcp-Protocol-Version`. Credentials mode is never enabled: MCP clients send bearer
tokens in `Authorization`, which a preflight allows explicitly, not cookies.

This sits inside the Host/Origin check (edge.py), so preflights are subject to the DNS-rebinding
defence too; origins listed here are accepted by that check as well as `allowed_origins`.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOW_METHODS = "GET, POST, DELETE, OPTIONS"
# Request headers an MCP client sends; a preflight asking for others is answered without them.
ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "last-event-id",
    "mcp-protocol-version",
    "mcp-session-id",
)
EXPOSE_HEADERS = "Mcp-Session-Id, WWW-Authenticate, Mcp-Protocol-Version"
MAX_AGE_S = 600


def origin_allowed(origin: str, patterns: list[str]) -> bool:
    return any(fnmatchcase(origin.lower(), p.lower()) for p in patterns)


class CorsMiddleware:
    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.origins = list(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.origins:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw_origin = headers.get(b"origin")
        origin = raw_origin.decode("latin-1") if raw_origin is not None else None
        if origin is None or not origin_allowed(origin, self.origins):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            await self._preflight(origin, headers, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [
                    (b"access-control-allow-origin", origin.encode("latin-1")),
                    (b"access-control-expose-headers", EXPOSE_HEADERS.encode()),
                    (b"vary", b"Origin"),
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, origin: str, headers: dict[bytes, bytes], send: Send) -> None:
        asked = headers.get(b"access-control-request-headers", b"").decode("latin-1")
        allowed = [h for h in (a.strip().lower() for a in asked.split(",")) if h in ALLOW_HEADERS]
        response_headers = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", ALLOW_METHODS.encode()),
            (b"access-control-allow-headers", ", ".join(allowed or ALLOW_HEADERS).encode()),
            (b"access-control-max-age", str(MAX_AGE_S).encode()),
            (b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": response_headers})
        await send({"type": "http.response.body", "body": b""})
