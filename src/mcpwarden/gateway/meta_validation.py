"""Per-request checks of the stateless era: `_meta`, and headers against the body.

A 2026-07-28 request carries what a session used to hold (protocol version, client
capabilities, client info) in its own `params._meta`, and mirrors its method, name and
annotated arguments into HTTP headers (`Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`). The gateway
validates all of it before anything is routed, rate-limited or forwarded, so that nothing
downstream acts on a header the body contradicts: a mismatch is refused with the revision's
`HeaderMismatch` (-32020) and HTTP 400, a malformed `_meta` with -32602 and HTTP 400.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.era import HEADER_MISMATCH
from mcpwarden.gateway.http_errors import HttpRejection

JSON = dict[str, Any]

META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo"
META_LOG_LEVEL = "io.modelcontextprotocol/logLevel"
# The keys that describe the client-to-gateway leg only: never forwarded upstream.
CLIENT_LEG_KEYS = frozenset({META_VERSION, META_CAPABILITIES, META_CLIENT_INFO, META_LOG_LEVEL})

LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
METHOD_HEADER = "mcp-method"
NAME_HEADER = "mcp-name"
PARAM_PREFIX = "mcp-param-"
# Which body field `Mcp-Name` mirrors, by method.
NAME_FIELDS = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
_BASE64 = re.compile(r"^=\?base64\?(.*)\?=$")


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """What a stateless request says about its client, validated."""

    version: str
    capabilities: JSON
    client_info: JSON | None
    log_level: str | None

    def has_capability(self, name: str) -> bool:
        return isinstance(self.capabilities.get(name), dict)

    def wants_log(self, level: Any) -> bool:
        """Whether a `notifications/message` at `level` may go to this client (opt-in only)."""
        if self.log_level is None:
            return False
        rank = LOG_LEVELS.index(level) if level in LOG_LEVELS else len(LOG_LEVELS) - 1
        return rank >= LOG_LEVELS.index(self.log_level)


def _invalid(message: str, request_id: Any) -> HttpRejection:
    return HttpRejection(400, "meta.invalid", message, id_=request_id, code=jsonrpc.INVALID_PARAMS)


def mismatch(message: str, request_id: Any) -> HttpRejection:
    """The revision's HeaderMismatch rejection: HTTP 400, JSON-RPC -32020."""
    return HttpRejection(400, "header.mismatch", message, id_=request_id, code=HEADER_MISMATCH)


def validate_meta(msg: JSON, header_version: str) -> RequestMeta:
    """The request's `_meta`, checked for presence, types and agreement with the header."""
    request_id = msg.get("id")
    params = msg.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    if not isinstance(meta, dict):
        raise _invalid("a 2026-07-28 request must carry params._meta", request_id)
    missing = [k for k in (META_VERSION, META_CAPABILITIES) if k not in meta]
    if missing:
        raise _invalid(f"params._meta lacks {', '.join(missing)}", request_id)
    version = meta[META_VERSION]
    if not isinstance(version, str):
        raise _invalid(f"{META_VERSION} must be a string", request_id)
    if version != header_version:
        raise mismatch(
            f"MCP-Protocol-Version header {header_version!r} does not match {META_VERSION} {version!r}",
            request_id,
        )
    capabilities = meta[META_CAPABILITIES]
    if not isinstance(capabilities, dict):
        raise _invalid(f"{META_CAPABILITIES} must be an object", request_id)
    info = meta.get(META_CLIENT_INFO)
    if info is not None and not (
        isinstance(info, dict) and isinstance(info.get("name"), str) and isinstance(info.get("version"), str)
    ):
        raise _invalid(f"{META_CLIENT_INFO} must be an object with string name and version", request_id)
    level = meta.get(META_LOG_LEVEL)
    if level is not None and level not in LOG_LEVELS:
        raise _invalid(f"{META_LOG_LEVEL} must be one of {', '.join(LOG_LEVELS)}", request_id)
    return RequestMeta(version, capabilities, info, level)


def decode_header(value: str) -> str:
    """A mirrored header value: plain ASCII, or `=?base64?...?=` for anything else.

    Whitespace around a plain value is HTTP framing, not part of the value (RFC 9110 5.5);
    a value whose own spaces matter comes base64-encoded.
    """
    value = value.strip(" \t")
    found = _BASE64.match(value)
    if found is None:
        return value
    try:
        return base64.b64decode(found.group(1), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("undecodable base64 header value") from None


def check_headers(headers: Mapping[str, str], msg: JSON) -> None:
    """`Mcp-Method` (always) and `Mcp-Name` (where the method has a name) against the body."""
    request_id = msg.get("id")
    method = msg.get("method")
    header = headers.get(METHOD_HEADER)
    if header is None:
        raise mismatch("a 2026-07-28 request must carry an Mcp-Method header", request_id)
    if header != method:
        raise mismatch(f"Mcp-Method {header!r} does not match the body's method {method!r}", request_id)
    field = NAME_FIELDS.get(str(method))
    if field is None:
        return
    params = msg.get("params")
    body_value = params.get(field) if isinstance(params, dict) else None
    raw = headers.get(NAME_HEADER)
    if raw is None:
        raise mismatch(f"{method} must carry an Mcp-Name header mirroring params.{field}", request_id)
    try:
        value = decode_header(raw)
    except ValueError as exc:
        raise mismatch(f"Mcp-Name: {exc}", request_id) from None
    if value != body_value:
        raise mismatch(f"Mcp-Name {value!r} does not match params.{field} {body_value!r}", request_id)


def param_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Every `Mcp-Param-*` header, by lower-case name after the prefix."""
    return {k[len(PARAM_PREFIX) :]: v for k, v in headers.items() if k.startswith(PARAM_PREFIX)}


def annotated_params(tool: JSON) -> dict[str, tuple[str, str]]:
    """A tool's `x-mcp-header` annotations: lower-case header name -> (argument, JSON type)."""
    schema = tool.get("inputSchema")
    props = schema.get("properties") if isinstance(schema, dict) else None
    out: dict[str, tuple[str, str]] = {}
    if not isinstance(props, dict):
        return out
    for arg, spec in props.items():
        if isinstance(spec, dict) and isinstance(spec.get("x-mcp-header"), str) and spec["x-mcp-header"]:
            out[spec["x-mcp-header"].lower()] = (arg, str(spec.get("type", "string")))
    return out


def check_param_headers(
    headers: Mapping[str, str], annotations: Mapping[str, tuple[str, str]], arguments: Any, request_id: Any
) -> None:
    """Each annotated argument against its `Mcp-Param-*` header; unknown headers are left alone.

    An argument with a value must be mirrored, and the header must say the same; a header
    for an absent or null argument contradicts the body too.
    """
    args = arguments if isinstance(arguments, dict) else {}
    present = param_headers(headers)
    for header, (arg, kind) in annotations.items():
        value = args.get(arg)
        raw = present.get(header)
        if value is None:
            if raw is not None:
                raise mismatch(f"Mcp-Param-{header} is set but argument {arg!r} is absent", request_id)
            continue
        if raw is None:
            raise mismatch(f"argument {arg!r} must be mirrored in Mcp-Param-{header}", request_id)
        if not _same(raw, value, kind):
            raise mismatch(f"Mcp-Param-{header} does not match argument {arg!r}", request_id)


def _same(raw: str, value: Any, kind: str) -> bool:
    try:
        text = decode_header(raw)
    except ValueError:
        return False
    if kind == "boolean" or isinstance(value, bool):
        return text == ("true" if value else "false")
    if kind in ("integer", "number") and isinstance(value, int | float):
        try:
            number = float(text)
        except ValueError:
            return False
        return math.isclose(number, float(value), rel_tol=0, abs_tol=1e-9)
    return text == str(value)


def upstream_params(params: JSON) -> JSON:
    """The params to forward: without the `_meta` keys that describe the client-to-gateway leg."""
    meta = params.get("_meta")
    if not isinstance(meta, dict):
        return params
    kept = {k: v for k, v in meta.items() if k not in CLIENT_LEG_KEYS}
    out = {k: v for k, v in params.items() if k != "_meta"}
    if kept:
        out["_meta"] = kept
    return out
