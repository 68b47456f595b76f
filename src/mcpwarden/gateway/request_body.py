"""What both eras' POST handling shares: reading a body within its limits, the principal's
HTTP rate check, and naming why a message is not JSON-RPC.

A body is bounded in size and in the time a client may take to send it before any parsing,
so a slow or huge body costs almost nothing.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from mcpwarden.admin.admission import retry_after_header
from mcpwarden.config import GatewayConfig
from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.http_errors import HttpRejection

if TYPE_CHECKING:
    from mcpwarden.admin.admission import Admission
    from mcpwarden.types import Principal


async def read_body(request: Request, config: GatewayConfig) -> bytes:
    """The request body, bounded in size (413) and in time (408): read before any JSON work."""
    limit = config.security.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HttpRejection(413, "transport.body_too_large", f"body of {declared} bytes exceeds {limit}")
    chunks: list[bytes] = []
    size = 0
    deadline = config.listen.body_timeout_s
    try:
        # A client that trickles its body holds a connection and a descriptor: bounded.
        async with asyncio.timeout(deadline):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise HttpRejection(413, "transport.body_too_large", f"body exceeds {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise HttpRejection(
            408,
            "transport.body_timeout",
            f"request body not received within {deadline:g}s",
            headers={"connection": "close"},
        ) from None
    return b"".join(chunks)


def invalid_reason(payload: Any) -> str:
    if not isinstance(payload, dict):
        return "a JSON-RPC message must be an object"
    if payload.get("jsonrpc") != "2.0":
        return 'missing or wrong "jsonrpc": "2.0"'
    if "method" in payload and "id" in payload and not jsonrpc.valid_id(payload["id"]):
        return "request id must be a string or an integer"
    if "method" in payload and "id" not in payload:
        return f"request {payload['method']!r} has no id (only notifications/* may omit it)"
    return "not a JSON-RPC request, notification or response"


def check_rate(admission: Admission, principal: Principal, request_id: Any = None) -> None:
    """Refuse (429, with Retry-After) a request over its principal's HTTP rate, either era."""
    wait = admission.http_retry_after(principal)
    if wait > 0:
        raise HttpRejection(
            429,
            "rate.principal",
            f"rate limit exceeded for this principal; retry after {wait:.2f}s",
            headers={"retry-after": retry_after_header(wait)},
            id_=request_id,
        )
