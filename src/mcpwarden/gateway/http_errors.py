"""HTTP-level rejections of the MCP endpoints: an HTTP status plus a JSON-RPC error body.

Every rejection names a stable reason code, in the body and in the audit record, so a
client (and an operator reading the audit) can tell why a request was refused.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from mcpwarden.gateway import jsonrpc


class HttpRejection(Exception):
    """Refuse the HTTP request; `id_` is the JSON-RPC id to answer with, when one is known."""

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        id_: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.headers = headers or {}
        self.id_ = id_


def error_response(
    status: int,
    reason: str,
    message: str,
    *,
    id_: Any = None,
    code: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = jsonrpc.error(id_, code if code is not None else jsonrpc.INVALID_REQUEST, message, reason=reason)
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)
