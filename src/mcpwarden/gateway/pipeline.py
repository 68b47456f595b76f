"""Runs guards' hooks in order and turns every outcome into an audit event.

The pipeline knows which hooks each guard overrides, so a message only visits guards
that care about it. A `rewrite` feeds the next guard the rewritten payload; a `deny`
stops the chain and is raised as `Denied`, which the session turns into a JSON-RPC error.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mcpwarden.audit.jsonl import AuditUnavailable
from mcpwarden.guards.base import Guard
from mcpwarden.guards.scoped import UpstreamScoped
from mcpwarden.types import Decision, Denied, Exchange

if TYPE_CHECKING:
    from mcpwarden.admin.tracing import Tracing

HOOKS: tuple[str, ...] = (
    "request",
    "tool_call",
    "resource_read_request",
    "prompt_get_request",
    "tools_list",
    "tool_result",
    "resources_list",
    "resource_templates_list",
    "resource_read",
    "prompts_list",
    "prompt_get",
    "initialize_result",
    "result",
    "error",
    "server_request",
    "client_response",
    "notification",
)

# Hooks that see what the client asked, by method.
REQUEST_HOOKS: dict[str, str] = {
    "tools/call": "tool_call",
    "resources/read": "resource_read_request",
    "prompts/get": "prompt_get_request",
}
# Hooks that see what the upstream answered, by method.
RESULT_HOOKS: dict[str, str] = {
    "tools/list": "tools_list",
    "tools/call": "tool_result",
    "resources/list": "resources_list",
    "resources/templates/list": "resource_templates_list",
    "resources/read": "resource_read",
    "prompts/list": "prompts_list",
    "prompts/get": "prompt_get",
}

HookFn = Callable[[Exchange, Any], Awaitable[Decision | None]]


class AuditWriter(Protocol):
    def write(self, event: dict[str, Any]) -> Any: ...


GuardTimer = Callable[[str, str, float], None]


@dataclass(slots=True)
class Instruments:
    """What watches the guards run: trace spans, a per-guard latency callback (metrics).

    One object shared by every pipeline the gateway builds (a config reload makes a new
    pipeline), so turning metrics or tracing on reaches the pipeline in use.
    """

    tracing: Tracing | None = None
    guard_timer: GuardTimer | None = None

    @property
    def active(self) -> bool:
        return self.tracing is not None or self.guard_timer is not None


class Pipeline:
    def __init__(
        self,
        guards: Sequence[Guard],
        audit: AuditWriter | None = None,
        *,
        instruments: Instruments | None = None,
    ) -> None:
        self.guards = list(guards)
        self.audit = audit
        self.instruments = instruments if instruments is not None else Instruments()
        self._chains: dict[str, list[tuple[str, HookFn]]] = {}
        for hook in HOOKS:
            chain: list[tuple[str, HookFn]] = []
            for guard in self.guards:
                # Only guards whose class overrides the hook take part in its chain.
                if isinstance(guard, UpstreamScoped):
                    if guard.overrides(hook):
                        chain.append((guard.name, guard.bound(hook)))
                elif getattr(type(guard), hook) is not getattr(Guard, hook):
                    chain.append((guard.name, getattr(guard, hook)))
            self._chains[hook] = chain

    def has(self, hook: str) -> bool:
        return bool(self._chains.get(hook))

    async def run(self, hook: str, ex: Exchange, payload: Any) -> Any:
        """Return the (possibly rewritten) payload, or raise Denied."""
        if self.instruments.active:
            return await self._run_instrumented(hook, ex, payload)
        for guard_name, fn in self._chains.get(hook, ()):
            decision = await fn(ex, payload)
            if decision is not None and decision.kind != "pass":
                payload = self._apply(hook, guard_name, ex, decision, payload)
        return payload

    async def _run_instrumented(self, hook: str, ex: Exchange, payload: Any) -> Any:
        """`run` with a span and/or a timing per guard (only when tracing or metrics are on)."""
        tracing, timer = self.instruments.tracing, self.instruments.guard_timer
        if tracing is not None and not tracing.guard_spans:
            tracing = None
        for guard_name, fn in self._chains.get(hook, ()):
            started = time.perf_counter()
            if tracing is not None:
                span = tracing.guard_span(guard_name, hook)
                try:
                    decision = await fn(ex, payload)
                except BaseException:
                    tracing.end_guard(span, None, failed=True)
                    raise
                tracing.end_guard(span, decision)
            else:
                decision = await fn(ex, payload)
            if timer is not None:
                timer(guard_name, hook, time.perf_counter() - started)
            if decision is not None and decision.kind != "pass":
                payload = self._apply(hook, guard_name, ex, decision, payload)
        return payload

    def _apply(self, hook: str, guard: str, ex: Exchange, decision: Decision, payload: Any) -> Any:
        """Audit a guard's non-pass decision; raise on deny, return the payload to go on with."""
        self._record(hook, guard, ex, decision)
        if decision.kind == "deny":
            raise Denied(guard, decision)
        return decision.value if decision.kind == "rewrite" else payload

    def _record(self, hook: str, guard: str, ex: Exchange, decision: Decision) -> None:
        if self.audit is None:
            return
        event: dict[str, Any] = {
            "event": "alert" if decision.kind == "alert" else "decision",
            "session": ex.session_id,
            "principal": ex.principal.key,
            "upstream": ex.upstream,
            "method": ex.method,
            "tool": ex.tool,
            "decision": decision.kind,
            "guard": guard,
            "reason": decision.reason,
        }
        if decision.message:
            event["message"] = decision.message
        event["details"] = {"hook": hook, **(decision.details or {})}
        # The request's own start record was written (or the operator chose
        # `on_failure: continue`); the log counts what it could not take and says so when it
        # is writable again.
        with contextlib.suppress(AuditUnavailable):
            self.audit.write(event)
