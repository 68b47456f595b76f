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
        code: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.headers = headers or {}
        self.id_ = id_
        # The JSON-RPC error code (default: invalid request) and extra `error.data` members,
        # for rejections whose code a protocol revision fixes (e.g. -32022 with `supported`).
        self.code = code
        self.data = data or {}


def error_response(
    status: int,
    reason: str,
    message: str,
    *,
    id_: Any = None,
    code: int | None = None,
    headers: dict[str, str] | None = None,
    data: dict[str, Any] | None = None,
) -> Response:
    code = code if code is not None else jsonrpc.INVALID_REQUEST
    body = jsonrpc.error(id_, code, message, reason=reason, **(data or {}))
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)
