"""Connection-level limits uvicorn does not have: a header read deadline and a descriptor budget.

uvicorn's keep-alive timeout only covers the quiet time *between* requests, and any byte
cancels it: a client that sends a request's headers one byte at a time (slowloris) holds its
connection, and its file descriptor, for as long as it likes. With 1,000 such connections
under a 1,024-descriptor limit, new clients got connection resets. So:

- **header deadline**: from the moment a connection opens (or the first byte of each later
  request arrives), its headers must be complete within `listen.header_timeout_s`; otherwise
  the gateway answers 408 with a JSON-RPC error body (reason `transport.header_timeout`) and
  closes the connection;
- **descriptor budget**: when the process's open descriptors come within `listen.fd_reserve`
  of its `RLIMIT_NOFILE`, a new connection is answered at once with 503 (reason
  `server.fd_budget`, `Retry-After: 1`) and closed, so the descriptors left stay available
  for upstream calls, stdio children, the audit file and the store, instead of the gateway
  failing unpredictably at the limit.

Counting descriptors means listing `/proc/self/fd`, so it is done only once the number of
open connections passes half the budget; below that the check costs a comparison.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
from collections.abc import Callable
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("mcpwarden.front")


def _canned(status: int, phrase: str, reason: str, message: str, extra: bytes = b"") -> bytes:
    body = orjson.dumps(
        {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": -32600, "message": message, "data": {"reason": reason}},
        }
    )
    return (
        f"HTTP/1.1 {status} {phrase}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n".encode()
        + extra
        + b"\r\n"
        + body
    )


def nofile_limit() -> int:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def open_descriptors(fallback: int) -> int:
    """Open descriptors of this process (Linux `/proc`; elsewhere, the caller's estimate)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return fallback


def protocol_class(
    *, header_timeout_s: float, fd_reserve: int, on_reject: Callable[[str, int], None] | None = None
) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with the two limits above (pass as `uvicorn.Config(http=...)`).

    `on_reject(reason, status)` is called for each refused connection (the gateway audits it).
    """

    def rejected(reason: str, status: int) -> None:
        if on_reject is not None:
            try:
                on_reject(reason, status)
            except Exception:  # auditing a rejection must never break the event loop
                log.exception("recording a rejected connection failed")

    limit = nofile_limit()
    budget = max(limit - fd_reserve, 16)
    timeout_reply = _canned(
        408,
        "Request Timeout",
        "transport.header_timeout",
        f"request headers not received within {header_timeout_s:g}s",
    )
    busy_reply = _canned(
        503,
        "Service Unavailable",
        "server.fd_budget",
        "the gateway is near its open-file limit; retry shortly",
        b"retry-after: 1\r\n",
    )

    class GuardedProtocol(HttpToolsProtocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            connections = len(self.connections)
            if connections * 2 > budget and open_descriptors(connections + 32) > budget:
                log.warning("refusing a connection: %d descriptors open, budget %d", connections, budget)
                transport.write(busy_reply)
                transport.close()
                rejected("server.fd_budget", 503)
                return
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._header_timer is None:
                self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._header_timer = self.loop.call_later(header_timeout_s, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.write(timeout_reply)
                self.transport.close()
                rejected("transport.header_timeout", 408)

    return GuardedProtocol
