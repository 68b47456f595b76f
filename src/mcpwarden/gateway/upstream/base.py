"""What a session needs from an upstream: send a message, get messages back.

Connectors deliver every message the upstream sends through one callback together with
the id of the request it belongs to when the transport tells (Streamable HTTP responses
arrive on the POST that carried the request; stdio has no such signal). Which client
stream a message ends up on is the session's business, not the connector's.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from typing import Any

JSON = dict[str, Any]

# (message, related upstream request id or None)
MessageHandler = Callable[[JSON, Any], Awaitable[None]]
# (reason) called once when the connection is gone for good
ClosedHandler = Callable[[str], Awaitable[None]]
# (upstream name, what happened, detail): garbage, dropped messages, lost streams; audited
EventHandler = Callable[[str, str, str], Awaitable[None]]


class UpstreamError(Exception):
    """The upstream could not be reached or answered with something that is not MCP."""

    def __init__(self, message: str, *, reason: str = "upstream.unavailable") -> None:
        super().__init__(message)
        self.reason = reason


class UpstreamClosed(UpstreamError):
    """The connection ended (process exit, session gone) and cannot carry messages."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="upstream.closed")


class UpstreamConnection(abc.ABC):
    """One MCP session with one upstream server."""

    def __init__(self, name: str, on_message: MessageHandler, on_closed: ClosedHandler) -> None:
        self.name = name
        self._on_message = on_message
        self._on_closed = on_closed
        self.protocol_version: str | None = None
        self.closed = False
        # Set by a wrapper that knows headers a request must carry beyond its body (the
        # 2026-07-28 bridge: `Mcp-Param-*` mirrors of annotated tool arguments).
        self.mirrored_headers: Callable[[JSON], dict[str, str]] | None = None

    def extra_headers(self, msg: JSON) -> dict[str, str]:
        """Headers an HTTP transport adds for this message (none unless a wrapper says so)."""
        return self.mirrored_headers(msg) if self.mirrored_headers is not None else {}

    @abc.abstractmethod
    async def start(self) -> None:
        """Open the transport (spawn the process / prepare the HTTP client)."""

    @abc.abstractmethod
    async def send(self, msg: JSON) -> None:
        """Send one JSON-RPC message; replies come back through `on_message`.

        Raises UpstreamError when the message could not be delivered at all.
        """

    @abc.abstractmethod
    async def close(self) -> None:
        """End the upstream session and free its resources; safe to call twice."""

    def abandon(self, request_id: Any) -> None:  # noqa: B027 - optional hook
        """Stop waiting for the reply to a request the session gave up on."""

    def initialized(self) -> None:  # noqa: B027 - optional hook
        """Called after the client's `notifications/initialized` went upstream."""

    async def _closed(self, reason: str) -> None:
        if not self.closed:
            self.closed = True
            await self._on_closed(reason)
