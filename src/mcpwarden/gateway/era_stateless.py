"""The stateless era (2026-07-28) on the gateway's MCP endpoints.

`McpEndpoint` hands a POST here once its `MCP-Protocol-Version` names a stateless
revision (see `era`). Each request is validated on its own (`meta_validation`: `_meta`,
`Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`), then runs on the principal's gateway-side
session (`stateless_pool`) through the same request processor as a session-era request:
authentication (done by the endpoint on every request), admission, policy, pinning,
poisoning, content defense, redaction and audit are the very same code. What differs is
only the edge: the request id the client chose is echoed (the pooled session runs it
under a gateway id so that concurrent clients cannot collide), results carry
`resultType` and caching hints, log messages reach only clients that asked for them,
and a server-initiated request inside a call is never put on the response stream: an
interactive call that needs the client's input ends in an `InputRequiredResult` and
resumes when the client retries (`input_required`).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.channel import Channel
from mcpwarden.gateway.core import GatewayCore
from mcpwarden.gateway.discover import discover_result, shape_result
from mcpwarden.gateway.era import MISSING_CLIENT_CAPABILITY
from mcpwarden.gateway.http_errors import HttpRejection
from mcpwarden.gateway.input_required import (
    INPUT_METHODS,
    INTERACTIVE_METHODS,
    HeldCall,
    HeldCalls,
    answers_for,
    input_key,
)
from mcpwarden.gateway.listen import LISTEN_METHOD, SUBSCRIPTION_NOTIFICATIONS, dispatch, listen_response
from mcpwarden.gateway.meta_validation import (
    RequestMeta,
    annotated_params,
    check_headers,
    check_param_headers,
    upstream_params,
    validate_meta,
)
from mcpwarden.gateway.request_body import check_rate
from mcpwarden.gateway.request_state import RequestStateCodec, StateRefused
from mcpwarden.gateway.stateless_pool import Pooled, StatelessPool
from mcpwarden.types import Principal

JSON = dict[str, Any]

# Methods of the handshake era that 2026-07-28 removed: 404 with -32601, as the revision says.
REMOVED_METHODS = frozenset(
    {"initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"}
)
# The client requests of 2026-07-28 the gateway serves; anything else is 404 with -32601
# here, rather than whatever an older upstream makes of a method it never heard of.
KNOWN_METHODS = frozenset(
    {
        "server/discover",
        "subscriptions/listen",
        "tools/list",
        "tools/call",
        "prompts/list",
        "prompts/get",
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "completion/complete",
    }
)
# The client capability a server-initiated request needs.
CAPABILITY_OF = {
    "sampling/createMessage": "sampling",
    "elicitation/create": "elicitation",
    "roots/list": "roots",
}


def http_status(reply: JSON) -> int:
    """The HTTP status of a final reply: 404 for an unknown method, 400 for a missing capability."""
    error = reply.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    if code == jsonrpc.METHOD_NOT_FOUND:
        return 404
    if code == MISSING_CLIENT_CAPABILITY:
        return 400
    return 200


def sse(msg: JSON) -> bytes:
    return b"event: message\ndata: " + orjson.dumps(msg) + b"\n\n"


@dataclass(frozen=True)
class Call:
    """One stateless request on its way: where it runs and what the client sent."""

    pooled: Pooled
    endpoint: str
    method: str
    rid: Any
    params: JSON
    meta: RequestMeta


class StatelessFront:
    """Serves 2026-07-28 requests on the gateway's endpoints."""

    def __init__(self, core: GatewayCore) -> None:
        self.core = core
        self.pool = StatelessPool(core)
        self._ids = itertools.count(1)
        settings = core.config.input_required
        codec = RequestStateCodec.from_config(settings.key, settings.ttl_s)
        self.held = HeldCalls(
            codec, max_per_principal=settings.max_held_per_principal, suffix=core.session_suffix
        )

    async def post(
        self,
        request: Request,
        principal: Principal,
        name: str | None,
        endpoint: str,
        payload: Any,
        size: int,
        version: str,
    ) -> Response:
        if isinstance(payload, list):
            raise HttpRejection(
                400, "jsonrpc.batch", "JSON-RPC batches are not allowed in this protocol revision"
            )
        kind = jsonrpc.classify(payload)
        if kind == "invalid":
            raise HttpRejection(400, "jsonrpc.invalid", "not a JSON-RPC request or notification")
        if kind == "response":
            raise HttpRejection(
                400,
                "stateless.response",
                "a 2026-07-28 server sends no requests, so there is nothing to answer",
            )
        check_headers(request.headers, payload)
        if kind == "notification":
            return Response(status_code=202)
        meta = validate_meta(payload, version)
        method: str = payload["method"]
        rid = payload["id"]
        # Only now, with headers and body in agreement, may anything act on them.
        check_rate(self.core.admission, principal, rid)
        if method not in KNOWN_METHODS:
            raise HttpRejection(
                404,
                "method.removed" if method in REMOVED_METHODS else "method.unknown",
                f"{method} does not exist in protocol revision {version}",
                id_=rid,
                code=jsonrpc.METHOD_NOT_FOUND,
            )
        try:
            pooled = await self.pool.get(principal, name, endpoint, getattr(request.state, "bearer", None))
        except HttpRejection as exc:
            exc.id_ = rid
            raise
        if method == "server/discover":
            reply = jsonrpc.result(rid, discover_result(pooled.init_result))
            return Response(orjson.dumps(reply), media_type="application/json")
        params = payload.get("params") if isinstance(payload.get("params"), dict) else {}
        assert isinstance(params, dict)
        if method == LISTEN_METHOD:
            return await listen_response(self.core, pooled, rid, params)
        if method == "tools/call":
            annotations = pooled.tool_headers.get(str(params.get("name")))
            if annotations:
                check_param_headers(request.headers, annotations, params.get("arguments"), rid)
        call = Call(pooled, endpoint, method, rid, params, meta)
        if method in INTERACTIVE_METHODS:
            for old in self.held.expired():
                await self._abandon(old, "input.expired")
            if "requestState" in params:
                return await self._resume(call)
        return await self._call(call, size)

    async def _call(self, call: Call, size: int) -> Response:
        # The pooled session runs the request under an id of its own: two stateless requests
        # of one principal may well carry the same id. The audit record shows both.
        internal = f"{call.rid}#{next(self._ids)}"
        params = upstream_params(call.params)
        msg = {"jsonrpc": "2.0", "id": internal, "method": call.method, "params": params}
        channel = call.pooled.session.handle_request(msg, size)
        return await self._respond(call, channel, internal)

    async def _resume(self, call: Call) -> Response:
        """A retry carrying `requestState`: hand the client's input to the held upstream call
        and go on with it; a state that does not check out is refused, audited."""
        session = call.pooled.session
        try:
            held = self.held.resume(
                call.params["requestState"],
                principal=session.principal.key,
                endpoint=call.endpoint,
                method=call.method,
                params=call.params,
            )
        except StateRefused as exc:
            self._audit_state(call, exc.reason, str(exc))
            raise HttpRejection(
                400, exc.reason, str(exc), id_=call.rid, code=jsonrpc.INVALID_PARAMS
            ) from None
        answers = answers_for(held, call.params.get("inputResponses"))
        if isinstance(answers, str):
            await self._abandon(held, "input.missing")
            raise HttpRejection(400, "input.missing", answers, id_=call.rid, code=jsonrpc.INVALID_PARAMS)
        held.channel.awaiting_input = False
        for answer in answers:
            await session.handle_response(answer)
        self._audit_state(call, "input.resumed", f"resumed with {len(answers)} input response(s)")
        return await self._respond(call, held.channel, held.internal_id)

    async def _respond(self, call: Call, channel: Channel, internal: str) -> Response:
        messages = self._messages(call, channel, internal)
        first = await anext(messages)
        if "result" in first or "error" in first:
            await messages.aclose()
            return Response(
                orjson.dumps(first), status_code=http_status(first), media_type="application/json"
            )

        async def body() -> AsyncIterator[bytes]:
            try:
                yield sse(first)
                async for item in messages:
                    yield sse(item)
            finally:
                await messages.aclose()

        return StreamingResponse(
            body(), media_type="text/event-stream", headers={"cache-control": "no-cache"}
        )

    async def _messages(self, call: Call, channel: Channel, internal: str) -> AsyncGenerator[JSON]:
        """What the client sees of one call, ending with its final reply under the client's id.

        Closing the response stream early is a cancellation in this revision: the call is
        stopped upstream as a `notifications/cancelled` would have done. An interactive call
        whose upstream asks for input ends in an `InputRequiredResult` and stays held.
        """
        pooled, method, rid, meta = call.pooled, call.method, call.rid, call.meta
        session = pooled.session
        finished = False
        # Input requests gathered for one InputRequiredResult (a bridged 2026-07-28 upstream
        # may ask several at once; each says how many came together).
        asked: dict[str, JSON] = {}
        try:
            while True:
                msg, data = await channel.queue.get()
                if data is not None:
                    finished = True
                    if not msg:
                        return  # cancelled
                    yield self._final(pooled, method, rid, msg)
                    return
                item = msg.get("method")
                if "id" in msg and isinstance(item, str):
                    if (
                        method in INTERACTIVE_METHODS
                        and item in INPUT_METHODS
                        and meta.has_capability(CAPABILITY_OF[item])
                    ):
                        asked[str(msg["id"])] = msg
                        if len(asked) < input_key(msg)[1]:
                            continue
                        finished = True  # held, not stopped: the retry takes it up again
                        yield await self._hold(call, channel, internal, asked)
                        return
                    refusal = await self._server_request(pooled, msg, meta, rid)
                    if refusal is not None:
                        finished = True
                        yield refusal
                        return
                    continue
                if item in SUBSCRIPTION_NOTIFICATIONS:
                    dispatch(pooled, msg)  # listen streams only, in this revision
                    continue
                if item == "notifications/message":
                    level = (
                        msg.get("params", {}).get("level") if isinstance(msg.get("params"), dict) else None
                    )
                    if not meta.wants_log(level):
                        continue
                yield msg
        finally:
            if not finished:
                rest = session.stop_request({"requestId": internal, "reason": "client closed the stream"})
                if rest is not None:
                    await rest

    async def _server_request(self, pooled: Pooled, msg: JSON, meta: RequestMeta, rid: Any) -> JSON | None:
        """An upstream's request inside a call. A client without the capability it needs gets
        MissingRequiredClientCapabilityError at once; otherwise the upstream is
        told the client cannot be asked mid-call (the 2026-07-28 response stream carries no
        requests), and the call goes on."""
        session = pooled.session
        method = str(msg["method"])
        capability = CAPABILITY_OF.get(method)
        missing = capability is not None and not meta.has_capability(capability)
        reason = "capability.missing" if missing else "stateless.server_request_refused"
        message = (
            f"the upstream needs the client capability {capability!r} for this call, "
            "and the request did not declare it"
            if missing
            else f"{method} cannot be relayed to a 2026-07-28 client inside a call"
        )
        self.core.audit_event(
            "alert",
            session=session.id,
            principal=session.principal.key,
            method=method,
            reason=reason,
            message=message,
            request_id=rid if isinstance(rid, str | int) else None,
        )
        await session.handle_response(
            jsonrpc.error(msg["id"], jsonrpc.METHOD_NOT_FOUND, message, reason=reason)
        )
        if not missing:
            return None
        # The upstream gets its refusal and finishes the call on its own (cancelling it while
        # its handler awaits that very answer is a race some servers do not survive); the
        # client has its answer already, and the call's late result is not read.
        return jsonrpc.error(
            rid, MISSING_CLIENT_CAPABILITY, message, reason=reason, requiredCapabilities={capability: {}}
        )

    async def _hold(self, call: Call, channel: Channel, internal: str, asked: dict[str, JSON]) -> JSON:
        """Park the call on the upstream's requests and answer with an InputRequiredResult."""
        session = call.pooled.session
        result, held, evicted = self.held.hold(
            principal=session.principal.key,
            endpoint=call.endpoint,
            internal_id=internal,
            channel=channel,
            method=call.method,
            params=call.params,
            requests=asked,
        )
        held.stop = lambda: session.stop_request({"requestId": internal, "reason": "input never given"})
        channel.awaiting_input = True
        for old in evicted:
            await self._abandon(old, "input.expired")
        methods = ", ".join(str(msg["method"]) for msg in asked.values())
        self._audit_state(call, "input.required", f"{methods} asked of the client as inputRequests")
        return {"jsonrpc": "2.0", "id": call.rid, "result": result}

    async def _abandon(self, held: HeldCall, reason: str) -> None:
        """Stop a held call that will not be resumed."""
        self.core.audit_event(
            "alert", principal=held.principal, reason=reason, message="a call held for input was stopped"
        )
        rest = held.stop()
        if rest is not None:
            await rest

    def _audit_state(self, call: Call, reason: str, message: str) -> None:
        session = call.pooled.session
        refused = not reason.startswith("input.")
        self.core.audit_event(
            "alert" if refused else "input_required",
            session=session.id,
            principal=session.principal.key,
            method=call.method,
            reason=reason,
            message=message,
            request_id=call.rid if isinstance(call.rid, str | int) else None,
        )

    def _final(self, pooled: Pooled, method: str, rid: Any, msg: JSON) -> JSON:
        out = {**msg, "id": rid}
        result = msg.get("result")
        if isinstance(result, dict):
            if method == "tools/list" and isinstance(result.get("tools"), list):
                for tool in result["tools"]:
                    if isinstance(tool, dict) and isinstance(tool.get("name"), str):
                        pooled.tool_headers[tool["name"]] = annotated_params(tool)
            out["result"] = shape_result(method, result)
        return out
