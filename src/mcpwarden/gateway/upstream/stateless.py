"""A 2026-07-28 (stateless) upstream behind a session of the handshake era.

The gateway's sessions speak the handshake era to their upstreams: `initialize`, then
requests, with server-initiated requests arriving mid-call. An upstream configured with
`era: stateless` speaks only 2026-07-28, so this connection translates at the edge, around
the transport connection it wraps (HTTP or stdio):

- `initialize` becomes `server/discover`, whose result is answered as an initialize result;
  `notifications/initialized` goes nowhere (there is no session to open);
- every request carries the revision's `_meta` (version, the client's capabilities and info);
  over HTTP the transport adds `Mcp-Method`/`Mcp-Name` (`method_headers`) and, for a tool
  whose listing annotated arguments with `x-mcp-header`, their `Mcp-Param-*` mirrors
  (`mirror_params`: the upstream must refuse a call that lacks them);
- an `InputRequiredResult` becomes server requests towards the client, on the call's own
  stream; once the client has answered them all, the original request is sent again with
  `inputResponses` and the upstream's `requestState`, under the same id;
- `ping` and `logging/setLevel`, which the revision removed, are answered here;
  `resources/subscribe`/`unsubscribe` cannot be translated and are refused with a reason.

The session above sees an ordinary handshake-era upstream; every guard applies unchanged.
"""

from __future__ import annotations

import base64
import itertools
from typing import Any

from mcpwarden import __version__
from mcpwarden.gateway.input_required import INPUT_KEY_META
from mcpwarden.gateway.meta_validation import annotated_params
from mcpwarden.gateway.upstream.base import ClosedHandler, MessageHandler, UpstreamConnection

JSON = dict[str, Any]
STATELESS_VERSION = "2026-07-28"
META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
META_CLIENT = "io.modelcontextprotocol/clientInfo"
NAME_FIELDS = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
# Removed by 2026-07-28; the session above still sends them, so they are answered here.
ANSWERED_HERE = frozenset({"ping", "logging/setLevel"})
UNTRANSLATABLE = frozenset({"resources/subscribe", "resources/unsubscribe"})
DROPPED_NOTIFICATIONS = frozenset({"notifications/initialized", "notifications/roots/list_changed"})
# Input rounds one call may take before the bridge gives up on it.
MAX_INPUT_ROUNDS = 10
METHOD_NOT_FOUND = -32601


def method_headers(msg: JSON, version: str | None) -> dict[str, str]:
    """`Mcp-Method` and (where the revision wants it) `Mcp-Name` for a 2026-07-28 POST."""
    method = msg.get("method")
    if version != STATELESS_VERSION or not isinstance(method, str):
        return {}
    headers = {"mcp-method": method}
    params = msg.get("params")
    field = NAME_FIELDS.get(method)
    if field is not None and isinstance(params, dict) and isinstance(params.get(field), str):
        headers["mcp-name"] = params[field]
    return headers


def encode_header(value: Any) -> str:
    """A mirrored argument as a header value: plain printable ASCII as is, else base64."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable() and text == text.strip(" \t") and not text.startswith("=?"):
        return text
    return "=?base64?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def mirror_params(msg: JSON, annotations: dict[str, dict[str, tuple[str, str]]]) -> dict[str, str]:
    """`Mcp-Param-*` headers for a `tools/call` of a tool with `x-mcp-header` arguments."""
    params = msg.get("params")
    if msg.get("method") != "tools/call" or not isinstance(params, dict):
        return {}
    wanted = annotations.get(str(params.get("name")), {})
    args = params.get("arguments") if isinstance(params.get("arguments"), dict) else {}
    assert isinstance(args, dict)
    return {
        f"mcp-param-{header}": encode_header(args[arg])
        for header, (arg, _kind) in wanted.items()
        if args.get(arg) is not None
    }


def handshake_capabilities(caps: Any) -> JSON:
    """A 2026-07-28 server's capabilities as a handshake-era client may rely on them.

    Change notifications and resource updates travel only on `subscriptions/listen` streams
    in that revision, which the bridge does not open: advertising `subscribe` or `listChanged`
    would promise what never arrives, so they are withdrawn.
    """
    if not isinstance(caps, dict):
        return {}
    out: JSON = {}
    for name, value in caps.items():
        if isinstance(value, dict) and name in ("tools", "prompts", "resources"):
            value = {k: v for k, v in value.items() if k not in ("listChanged", "subscribe")}
        out[name] = value
    return out


def _error(rid: Any, code: int, message: str, reason: str) -> JSON:
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "error": {"code": code, "message": message, "data": {"reason": reason}},
    }


class StatelessUpstream(UpstreamConnection):
    """Wraps a transport connection to a 2026-07-28 upstream; see the module docstring."""

    def __init__(self, name: str, on_message: MessageHandler, on_closed: ClosedHandler) -> None:
        super().__init__(name, on_message, on_closed)
        self.inner: UpstreamConnection | None = None
        self._capabilities: JSON = {}
        self._client: JSON = {"name": "mcpwarden", "version": __version__}
        self._discovering: dict[Any, str] = {}  # discover id -> the version the client asked for
        self._sent: dict[Any, JSON] = {}  # upstream id -> the request as last sent
        self._rounds: dict[Any, int] = {}
        self._asked: dict[str, tuple[Any, str]] = {}  # bridge id -> (request id, input key)
        self._answers: dict[Any, JSON] = {}  # request id -> {input key: response}
        self._state: dict[Any, Any] = {}  # request id -> the upstream's requestState
        self._ids = itertools.count(1)
        # tool name -> its x-mcp-header annotations, learnt from the upstream's tools/list
        self._annotations: dict[str, dict[str, tuple[str, str]]] = {}

    def wrap(self, inner: UpstreamConnection) -> None:
        inner.protocol_version = STATELESS_VERSION
        inner.mirrored_headers = lambda msg: {
            **method_headers(msg, STATELESS_VERSION),
            **mirror_params(msg, self._annotations),
        }
        self.inner = inner

    def _conn(self) -> UpstreamConnection:
        assert self.inner is not None, "wrap() a transport connection first"
        return self.inner

    async def start(self) -> None:
        await self._conn().start()

    async def close(self) -> None:
        await self._conn().close()

    def abandon(self, request_id: Any) -> None:
        self._forget(request_id)
        self._conn().abandon(request_id)

    async def inner_closed(self, reason: str) -> None:
        await self._closed(reason)

    # ------------------------------------------------------------------ gateway → upstream

    async def send(self, msg: JSON) -> None:
        method = msg.get("method")
        if "id" not in msg:
            if method not in DROPPED_NOTIFICATIONS:
                await self._conn().send(msg)
            return
        if not isinstance(method, str):
            await self._client_answer(msg)
            return
        rid = msg["id"]
        params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
        assert isinstance(params, dict)
        if method == "initialize":
            caps = params.get("capabilities")
            self._capabilities = caps if isinstance(caps, dict) else {}
            info = params.get("clientInfo")
            if isinstance(info, dict) and isinstance(info.get("name"), str):
                self._client = info
            self._discovering[rid] = str(params.get("protocolVersion") or "2025-11-25")
            await self._send_request(rid, "server/discover", {})
        elif method in ANSWERED_HERE:
            await self._on_message({"jsonrpc": "2.0", "id": rid, "result": {}}, rid)
        elif method in UNTRANSLATABLE:
            message = (
                f"{method} cannot be translated to a 2026-07-28 upstream (it offers subscriptions/listen)"
            )
            await self._on_message(_error(rid, METHOD_NOT_FOUND, message, "bridge.untranslatable"), rid)
        else:
            await self._send_request(rid, method, params)

    async def _send_request(self, rid: Any, method: str, params: JSON) -> None:
        meta = params.get("_meta") if isinstance(params.get("_meta"), dict) else {}
        stamped = {
            **params,
            "_meta": {
                **(meta or {}),
                META_VERSION: STATELESS_VERSION,
                META_CAPABILITIES: self._capabilities,
                META_CLIENT: self._client,
            },
        }
        request = {"jsonrpc": "2.0", "id": rid, "method": method, "params": stamped}
        self._sent[rid] = request
        await self._conn().send(request)

    async def _client_answer(self, msg: JSON) -> None:
        """The client's answer to an input request the bridge asked on the upstream's behalf."""
        asked = self._asked.pop(str(msg.get("id")), None)
        if asked is None:
            await self._conn().send(msg)  # not one of ours (there should be none: no back channel)
            return
        rid, key = asked
        if "result" not in msg or not isinstance(msg["result"], dict):
            error = msg.get("error") if isinstance(msg.get("error"), dict) else {}
            assert isinstance(error, dict)
            reply = _error(rid, int(error.get("code", -32603)), str(error.get("message")), "input.refused")
            self._forget(rid)
            await self._on_message(reply, rid)
            return
        self._answers.setdefault(rid, {})[key] = msg["result"]
        if any(r == rid for r, _ in self._asked.values()):
            return  # more answers to come
        sent = self._sent.get(rid)
        if sent is None:
            return  # the call was abandoned meanwhile
        params = {k: v for k, v in sent["params"].items() if k not in ("inputResponses", "requestState")}
        params["inputResponses"] = self._answers.pop(rid)
        if self._state.get(rid) is not None:
            params["requestState"] = self._state[rid]
        await self._conn().send({**sent, "params": params})

    # ------------------------------------------------------------------ upstream → gateway

    async def from_inner(self, msg: JSON, related: Any) -> None:
        if "method" in msg or "id" not in msg:
            await self._on_message(msg, related)
            return
        rid = msg["id"]
        result = msg.get("result")
        if rid in self._discovering:
            version = self._discovering.pop(rid)
            self._sent.pop(rid, None)
            await self._on_message(self._initialize_reply(rid, version, msg), rid)
            return
        if isinstance(result, dict) and result.get("resultType") == "input_required":
            await self._ask_client(rid, result)
            return
        sent = self._sent.get(rid)
        if sent is not None and sent.get("method") == "tools/list" and isinstance(result, dict):
            self._learn_annotations(result)
        self._forget(rid)
        if isinstance(result, dict):
            msg = {**msg, "result": {k: v for k, v in result.items() if k != "resultType"}}
        await self._on_message(msg, related)

    def _initialize_reply(self, rid: Any, version: str, msg: JSON) -> JSON:
        result = msg.get("result")
        if not isinstance(result, dict):
            return msg
        meta = result.get("_meta") if isinstance(result.get("_meta"), dict) else {}
        assert isinstance(meta, dict)
        info = result.get("serverInfo") or meta.get("io.modelcontextprotocol/serverInfo")
        reply: JSON = {
            "protocolVersion": version,
            "capabilities": handshake_capabilities(result.get("capabilities")),
            "serverInfo": info if isinstance(info, dict) else {"name": self.name, "version": ""},
        }
        if isinstance(result.get("instructions"), str):
            reply["instructions"] = result["instructions"]
        return {"jsonrpc": "2.0", "id": rid, "result": reply}

    async def _ask_client(self, rid: Any, result: JSON) -> None:
        """Turn an InputRequiredResult into server requests on the call's own stream."""
        rounds = self._rounds[rid] = self._rounds.get(rid, 0) + 1
        requests = result.get("inputRequests")
        if rounds > MAX_INPUT_ROUNDS or not isinstance(requests, dict) or not requests:
            self._forget(rid)
            why = "asked for input too many times" if rounds > MAX_INPUT_ROUNDS else "sent no input requests"
            await self._on_message(_error(rid, -32603, f"upstream {why}", "bridge.input_rounds"), rid)
            return
        self._state[rid] = result.get("requestState")
        valid = [
            (str(key), request)
            for key, request in requests.items()
            if isinstance(request, dict) and isinstance(request.get("method"), str)
        ]
        for key, request in valid:
            bridge_id = f"bridge-{next(self._ids)}"
            self._asked[bridge_id] = (rid, key)
            given = request.get("params")
            params: JSON = given if isinstance(given, dict) else {}
            # Marked so that a stateless front can ask its own client with the same keys, all at once.
            given_meta = params.get("_meta")
            meta: JSON = given_meta if isinstance(given_meta, dict) else {}
            mark = {INPUT_KEY_META: {"key": key, "count": len(valid)}}
            params = {**params, "_meta": {**meta, **mark}}
            ask = {"jsonrpc": "2.0", "id": bridge_id, "method": request["method"], "params": params}
            await self._on_message(ask, rid)

    def _learn_annotations(self, result: JSON) -> None:
        tools = result.get("tools")
        for tool in tools if isinstance(tools, list) else ():
            if isinstance(tool, dict) and isinstance(tool.get("name"), str):
                self._annotations[tool["name"]] = annotated_params(tool)

    def _forget(self, rid: Any) -> None:
        self._sent.pop(rid, None)
        self._rounds.pop(rid, None)
        self._answers.pop(rid, None)
        self._state.pop(rid, None)
        for bridge_id in [b for b, (r, _) in self._asked.items() if r == rid]:
            del self._asked[bridge_id]
