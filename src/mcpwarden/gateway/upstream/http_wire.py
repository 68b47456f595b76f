"""What the HTTP connector makes of the wire: transport errors, status codes, capped lines.

Kept apart from the connector so its request logic stays readable: each helper turns one
kind of upstream behaviour into the error (and reason code) the client and audit will see.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator

import aiohttp

from mcpwarden.egress import EgressDenied
from mcpwarden.gateway.upstream.base import UpstreamError
from mcpwarden.gateway.upstream.limits import Oversize, split_lines

HTTP_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)
# After a POST's response arrived, how long and how much of the rest of its stream is read so
# that the connection can go back to the pool (see `drain_tail`).
DRAIN_TAIL_S = 1.0
DRAIN_TAIL_BYTES = 64 * 1024


def lines(resp: aiohttp.ClientResponse, cap: int) -> AsyncIterator[bytes | Oversize]:
    """The body's lines, each cut off at `cap` while it is read."""
    return split_lines(functools.partial(resp.content.readany), cap)


def unreachable(name: str, exc: BaseException) -> UpstreamError:
    """A transport error as the session reports it; an egress refusal keeps its own reason."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, EgressDenied):
            return UpstreamError(str(cause), reason="upstream.egress_denied")
        cause = getattr(cause, "os_error", None) or cause.__cause__
    return UpstreamError(f"upstream {name!r} unreachable: {exc!s}", reason="upstream.unavailable")


def redirect(name: str, resp: aiohttp.ClientResponse) -> UpstreamError:
    """A 3xx, never followed: it would resend the request and its credentials elsewhere."""
    where = resp.headers.get("location", "")[:200]
    return UpstreamError(
        f"upstream {name!r} answered HTTP {resp.status} (redirect to {where!r}); redirects are never "
        "followed: point the upstream's url at the final address",
        reason="upstream.http_error",
    )


def status_error(name: str, status: int) -> UpstreamError:
    """A 3xx or an error status on a request whose body the gateway does not need."""
    followed = "; redirects are never followed" if 300 <= status < 400 else ""
    return UpstreamError(f"upstream {name!r} answered HTTP {status}{followed}", reason="upstream.http_error")


async def drain_tail(resp: aiohttp.ClientResponse) -> None:
    """Read the end of an answered POST's event stream (servers close it right after the
    response) so aiohttp keeps the connection for the next call: released unread, it is closed,
    and a new TCP connection per call cost the gateway about a sixth of its CPU. The response
    is already on its way to the client; a server that keeps the stream open loses the
    connection after DRAIN_TAIL_S, as before (the pool slot is held that long)."""
    left = DRAIN_TAIL_BYTES
    with contextlib.suppress(TimeoutError, aiohttp.ClientError):
        async with asyncio.timeout(DRAIN_TAIL_S):
            while left > 0 and (chunk := await resp.content.readany()):
                left -= len(chunk)
