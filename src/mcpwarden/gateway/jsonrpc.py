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
AUDIT_UNAVAILABLE = -32006
TOO_MANY_REQUESTS = -32005


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


# Deepest nesting of objects and arrays accepted in one message, from clients and upstreams.
# Messages are serialized again (towards the peer, into the audit log) by a serializer that
# stops at 254 levels, and some guards walk them; far below either limit, and far above
# anything an MCP message or a tool's JSON Schema needs.
MAX_DEPTH = 128


def nesting_depth_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether objects and arrays in `value` nest deeper than `limit` levels.

    Walks one level at a time without recursion, so its cost is linear in the number of
    containers and it runs on every message in both directions: a few microseconds for a
    call, far less than parsing for a large result (whose bulk is strings).
    """
    level: list[Any] = [value] if type(value) is dict or type(value) is list else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below: list[Any] = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                kind = type(child)
                if kind is dict or kind is list:
                    below.append(child)
        level = below
    return False


def problem(msg: Any) -> tuple[str, str] | None:
    """(reason, message) when a parsed message must be refused whatever its kind, else None.

    Checks what `classify` does not: nesting depth, and the one notification whose params
    the gateway itself acts on (`notifications/cancelled` names a request by its id).
    """
    if isinstance(msg, dict | list) and nesting_depth_exceeds(msg):
        return "jsonrpc.too_deep", f"message nests objects or arrays deeper than {MAX_DEPTH} levels"
    if isinstance(msg, dict) and msg.get("method") == "notifications/cancelled":
        params = msg.get("params")
        if not isinstance(params, dict) or not valid_id(params.get("requestId")):
            return "jsonrpc.invalid", "notifications/cancelled needs params.requestId, a string or an integer"
    return None


def request_id_of(msg: Any) -> Any:
    """The message's id when it is a valid one, for an error answer; else None."""
    return msg.get("id") if isinstance(msg, dict) and valid_id(msg.get("id")) else None


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
