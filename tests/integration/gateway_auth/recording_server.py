"""An MCP server (FastMCP, Streamable HTTP) that records every HTTP request it receives.

Each request's headers and body are appended as one JSON line to `--log`, so a test can
prove what reached the upstream: which credentials, and that the client's token never
did, in any header or body.

Run: python recording_server.py --port PORT --log FILE
"""

from __future__ import annotations

import argparse
import json
import threading
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Recorder:
    """ASGI middleware: logs the request, then hands the same body to the app."""

    def __init__(self, app: ASGIApp, path: str) -> None:
        self.app = app
        self.path = path
        self.lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        record = {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "body": body.decode("utf-8", "replace"),
        }
        with self.lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    opts = parser.parse_args()
    mcp = MCPServer("recorded")

    @mcp.tool()
    def echo(text: str) -> str:
        """Return the text."""
        return text

    app: Any = Recorder(
        mcp.streamable_http_app(
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False)
        ),
        opts.log,
    )
    uvicorn.run(app, host="127.0.0.1", port=opts.port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()
