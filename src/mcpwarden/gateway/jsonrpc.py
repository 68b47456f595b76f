"""JSON-RPC 2.0 message classification and error construction.

Messages stay plain dicts parsed once by orjson: the gateway must pass through fields it
does not know, so it never round-trips them through typed models.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson

JSON = dict[str, Any]
Kind = Literal["request", "notification", "response", "invalid"]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# Gateway-specific codes, in the implementation-defined server-error range.
UPSTREAM_UNAVAILABLE = -32001
UPSTREAM_TIMEOUT = -32002
DENIED = -32003
SESSION_EXPIRED = -32004
# The request's audit record could not be written (disk full): refused, not forwarded.
AUDIT_UNAVAILABLE = -32005


def classify(msg: Any) -> Kind:
    """Tell requests, notifications and responses apart, rejecting what is neither.

    IDs must be strings or integers (never null or floats), as the spec requires.
    """
    if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0":
        return "invalid"
    has_id = "id" in msg
    if "method" in msg:
        if not isinstance(msg["method"], str):
            return "invalid"
        if "params" in msg and not isinstance(msg["params"], dict | list):
            return "invalid"
        if not has_id:
            # MCP notifications are all named notifications/...; anything else without an id
            # is a request that lost its id, and answering it as a notification would hide that.
            return "notification" if msg["method"].startswith("notifications/") else "invalid"
        return "request" if valid_id(msg["id"]) else "invalid"
    if has_id and ("result" in msg or "error" in msg):
        return "response" if valid_id(msg["id"]) or msg["id"] is None else "invalid"
    return "invalid"


def valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def error(id_: Any, code: int, message: str, *, reason: str | None = None, **data: Any) -> JSON:
    err: JSON = {"code": code, "message": message}
    if reason is not None:
        data = {"reason": reason, **data}
    if data:
        err["data"] = data
    return {"jsonrpc": "2.0", "id": id_, "error": err}


def result(id_: Any, value: Any) -> JSON:
    return {"jsonrpc": "2.0", "id": id_, "result": value}


def notification(method: str, params: JSON | None = None) -> JSON:
    msg: JSON = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        msg["params"] = params
    return msg


def dumps(msg: Any) -> bytes:
    return orjson.dumps(msg)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)
