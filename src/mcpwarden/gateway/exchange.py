"""Processing one client request, independent of the transport it came in on.

A request is dispatched (initialize, the aggregated endpoint's own methods, or a forward
to its owning upstream), passes the request guards, goes upstream, and its result passes
the result guards. Whatever happens ends as exactly one response on the request's channel
and one audit record: guard denials, upstream failures and internal errors included.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from mcpwarden import __version__
from mcpwarden.config import SUPPORTED_PROTOCOL_VERSIONS
from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.aggregate import LIST_METHODS, merged_init, prefix_result, route
from mcpwarden.gateway.channel import Channel, InFlight
from mcpwarden.gateway.definitions import Definitions
from mcpwarden.gateway.errors import AuditRefused, ClientError, UpstreamTimeout
from mcpwarden.gateway.fanout import Fanout
from mcpwarden.gateway.pipeline import REQUEST_HOOKS, RESULT_HOOKS
from mcpwarden.gateway.services import SessionView
from mcpwarden.gateway.upstream import UpstreamError
from mcpwarden.store.base import StoreUnavailable
from mcpwarden.types import Denied, Exchange

if TYPE_CHECKING:
    from mcpwarden.admin.tracing import RequestSpan

log = logging.getLogger("mcpwarden.session")

JSON = dict[str, Any]


class RequestProcessor:
    """Turns one session's client requests into responses and audit records."""

    def __init__(
        self, session: SessionView, fanout: Fanout, definitions: Definitions, calls: InFlight
    ) -> None:
        self.session = session
        self.core = session.core
        self.fanout = fanout
        self.definitions = definitions
        self.calls = calls

    async def process(self, msg: JSON, channel: Channel, request_bytes: int) -> None:
        started = time.perf_counter()
        method: str = msg["method"]
        client_id = msg["id"]
        params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
        assert isinstance(params, dict)
        # The client's JSON-RPC id ties each answer to its record (across replicas too).
        record: JSON = {
            "upstream": None,
            "tool": None,
            "decision": "allow",
            "guard": None,
            "reason": None,
            "request_id": client_id,
        }
        response: JSON
        s = self.session
        admission = self.core.admission
        entered = False
        tracing = self.core.pipeline.instruments.tracing
        span = tracing.start_request(method, s.id, s.principal.key, params) if tracing is not None else None
        try:
            # Audit before effect: nothing is forwarded for a request that has no record.
            await self.core.audit_request_start(
                session=s.id,
                principal=s.principal.key,
                upstream=None if s.aggregate else s.upstream_names[0],
                method=method,
                tool=params.get("name") if method == "tools/call" else None,
                request_id=client_id,
                arguments=params.get("arguments") if method == "tools/call" else None,
            )
            ctx: JSON = {"session": s.id, "principal": s.principal.key, "method": method}
            # HTTP callers' own rate is answered with 429 by the front, before this point.
            admission.check_request(s.id, s.principal, charge_principal=s.transport != "http", ctx=ctx)
            entered = admission.enter(s.id, s.principal, ctx)
            response = await self._dispatch(method, client_id, params, channel, record)
        except AuditRefused as exc:
            record.update(decision="refused", reason=exc.reason)
            response = jsonrpc.error(client_id, jsonrpc.AUDIT_UNAVAILABLE, str(exc), reason=exc.reason)
        except Denied as exc:
            d = exc.decision
            record.update(decision="deny", guard=exc.guard, reason=d.reason)
            extra = (
                {"retry_after": d.details["retry_after"]} if d.details and "retry_after" in d.details else {}
            )
            # The audit file was lost (signed checkpoints watch it): the same answer as a
            # record that cannot be written.
            code = jsonrpc.AUDIT_UNAVAILABLE if d.reason == "audit.unavailable" else jsonrpc.DENIED
            response = jsonrpc.error(
                client_id,
                code,
                d.message or "denied by gateway policy",
                reason=d.reason,
                guard=exc.guard,
                **extra,
            )
        except UpstreamTimeout as exc:
            record.update(decision="error", reason="upstream.timeout")
            response = jsonrpc.error(client_id, jsonrpc.UPSTREAM_TIMEOUT, str(exc), reason="upstream.timeout")
        except UpstreamError as exc:
            record.update(decision="error", reason=exc.reason)
            response = jsonrpc.error(client_id, jsonrpc.UPSTREAM_UNAVAILABLE, str(exc), reason=exc.reason)
        except StoreUnavailable as exc:
            # Pins or session state could not be read: refuse rather than decide blind.
            record.update(decision="error", reason="store.unavailable")
            response = jsonrpc.error(
                client_id,
                jsonrpc.INTERNAL_ERROR,
                f"gateway store unavailable: {exc}",
                reason="store.unavailable",
            )
        except ClientError as exc:
            record.update(decision="error", reason=exc.reason)
            response = jsonrpc.error(client_id, exc.code, str(exc), reason=exc.reason)
        except asyncio.CancelledError:
            record.update(decision="cancelled")
            self._finish(channel, None, method, params, record, started, request_bytes, span)
            raise
        except Exception as exc:  # never let one bad request take the session down
            log.exception("internal error handling %s", method)
            record.update(decision="error", reason="gateway.internal")
            response = jsonrpc.error(client_id, jsonrpc.INTERNAL_ERROR, f"internal gateway error: {exc}")
        finally:
            if entered:
                admission.leave(s.id, s.principal)
        self._finish(channel, response, method, params, record, started, request_bytes, span)

    def _finish(
        self,
        channel: Channel,
        response: JSON | None,
        method: str,
        params: JSON,
        record: JSON,
        started: float,
        request_bytes: int,
        span: RequestSpan | None = None,
    ) -> None:
        response_bytes = channel.finish(response)
        self.calls.done(channel.client_id)
        if response is not None and "error" in response and record["decision"] == "allow":
            record["decision"] = "error"
            record["reason"] = (
                (response["error"].get("data") or {}).get("reason")
                if isinstance(response["error"].get("data"), dict)
                else "upstream.error"
            )
        args = params.get("arguments") if method == "tools/call" else None
        if span is not None and self.core.pipeline.instruments.tracing is not None:
            self.core.pipeline.instruments.tracing.finish_request(span, record)
        self.core.audit_request(
            session=self.session.id,
            principal=self.session.principal.key,
            method=method,
            latency_ms=(time.perf_counter() - started) * 1000,
            request_bytes=request_bytes,
            response_bytes=response_bytes,
            arguments=args,
            **record,
        )

    async def _dispatch(
        self, method: str, client_id: Any, params: JSON, channel: Channel, record: JSON
    ) -> JSON:
        if method == "initialize":
            return await self._initialize(client_id, params)
        if self.session.aggregate:
            if method == "ping":
                return jsonrpc.result(client_id, {})
            if method in LIST_METHODS:
                return await self.definitions.aggregate_list(method, client_id)
            if method == "logging/setLevel":
                await self._broadcast_guarded(method, client_id, params, "logging")
                return jsonrpc.result(client_id, {})
            upstream, params = route(method, params, self.fanout.conns)
        else:
            upstream = self.session.upstream_names[0]
        return await self._forward(upstream, method, client_id, params, channel, record)

    async def _broadcast_guarded(self, method: str, client_id: Any, params: JSON, capability: str) -> None:
        """Send one request to every upstream with `capability` whose request guards let it pass.

        Every connected upstream is judged, with the capability or not, so that a caller who
        may reach none is told so rather than answered with an empty success.
        """
        names = await self._passing(method, client_id, params, list(self.fanout.conns))
        capable = [n for n in names if self.fanout.has_capability(n, capability)]
        await self.fanout.broadcast(method, params, capable)

    async def _passing(self, method: str, client_id: Any, params: JSON, names: list[str]) -> list[str]:
        """The upstreams among `names` that the request guards let this request reach.

        Each upstream is judged on its own (policy grants access per upstream; every denial is
        audited by the pipeline); if there were some and every one refused, the first denial
        answers the client.
        """
        s = self.session
        allowed: list[str] = []
        first: Denied | None = None
        for name in names:
            ex = Exchange(method, name, s.principal, s.id, client_id, None, params, s.state)
            try:
                await self.core.pipeline.run("request", ex, params)
            except Denied as exc:
                first = first or exc
                continue
            allowed.append(name)
        if first is not None and not allowed:
            raise first
        return allowed

    async def _forward(
        self, upstream: str, method: str, client_id: Any, params: JSON, channel: Channel, record: JSON
    ) -> JSON:
        s = self.session
        tool = str(params.get("name")) if method == "tools/call" else None
        await self.definitions.await_recheck(upstream, method)
        record["upstream"] = upstream
        record["tool"] = tool
        ctx: JSON = {"session": s.id, "principal": s.principal.key, "upstream": upstream, "method": method}
        self.core.admission.check_call(s.id, s.principal, upstream, tool, {**ctx, "tool": tool})
        ex = Exchange(method, upstream, s.principal, s.id, client_id, tool, params, s.state)
        pipeline = self.core.pipeline
        params = await pipeline.run("request", ex, params)
        hook = REQUEST_HOOKS.get(method)
        if hook is not None:
            params = await pipeline.run(hook, ex, params)
            ex.params = params
        channel.upstream = upstream
        tracing = pipeline.instruments.tracing
        if tracing is None:
            reply = await self.fanout.request(upstream, method, params, channel)
        else:
            with tracing.upstream_call(upstream, method, params) as sent:
                reply = await self.fanout.request(upstream, method, sent, channel)
        if "result" not in reply:
            return await self._guarded_error(ex, reply, client_id)
        result = reply["result"]
        # A method without a hook of its own (completion/complete, one a later revision
        # adds) still goes through the generic `result` hook: every result is inspected.
        hook = RESULT_HOOKS.get(method, "result")
        if isinstance(result, dict):
            result = await pipeline.run(hook, ex, result)
        if s.aggregate and isinstance(result, dict):
            result = prefix_result(upstream, method, result)
        return jsonrpc.result(client_id, result)

    async def _guarded_error(self, ex: Exchange, reply: JSON, client_id: Any) -> JSON:
        """An upstream's error reply, its `message` and `data` through the `error` hook."""
        out = dict(reply)
        out["id"] = client_id
        error = reply.get("error")
        if isinstance(error, dict) and self.core.pipeline.has("error"):
            out["error"] = await self.core.pipeline.run("error", ex, error)
        return out

    async def _guarded_init(self, ok: dict[str, JSON]) -> dict[str, JSON]:
        """Each upstream's initialize reply through the guards: instructions, serverInfo, errors."""
        s = self.session
        out: dict[str, JSON] = {}
        for name, reply in ok.items():
            ex = Exchange("initialize", name, s.principal, s.id, None, None, {}, s.state)
            result = reply.get("result")
            if isinstance(result, dict):
                out[name] = {**reply, "result": await self.core.pipeline.run("initialize_result", ex, result)}
            elif isinstance(reply.get("error"), dict):
                out[name] = await self._guarded_error(ex, reply, reply.get("id"))
            else:
                out[name] = reply
        return out

    async def _initialize(self, client_id: Any, params: JSON) -> JSON:
        requested = params.get("protocolVersion")
        if self.fanout.conns:
            raise ClientError("session is already initialized", code=jsonrpc.INVALID_REQUEST)
        # Only the upstreams the caller may reach are connected at all (no stdio child, no
        # upstream session for an upstream its policy closes); none reachable: denied.
        names = await self._passing("initialize", client_id, params, list(self.session.upstream_names))
        ok = await self._guarded_init(await self.fanout.initialize_all(params, names))
        # The idle clock runs from the answer, not the request: starting upstreams (a stdio child
        # importing its SDK on a loaded machine) must not eat the client's idle allowance.
        self.session.touch()
        # Integrity guards judge calls against the definitions an upstream lists, so list
        # them now: a client that calls a tool without listing first is checked the same way.
        if any(self.core.pipeline.has(h) for h in ("tools_list", "prompts_list", "resources_list")):
            await asyncio.gather(*(self.definitions.recheck(name) for name in ok if "result" in ok[name]))
        if not self.session.aggregate:
            _, reply = next(iter(ok.items()))
            if "result" not in reply:
                out = dict(reply)
                out["id"] = client_id
                return out
            result = reply["result"]
            self.session.protocol_version = result.get("protocolVersion")
            return jsonrpc.result(client_id, result)
        version = requested if requested in SUPPORTED_PROTOCOL_VERSIONS else SUPPORTED_PROTOCOL_VERSIONS[-1]
        self.session.protocol_version = version
        return jsonrpc.result(client_id, merged_init(version, ok, __version__))
