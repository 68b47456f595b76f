"""What a message must pass before any guard sees it: the kill switch, rate limits, concurrency.

These are operator controls rather than content judgements, so they run first and cheaply:
a disabled principal or an exhausted bucket costs one dict lookup and one bucket update.
Each refusal raises `Denied` (guard `kill_switch`, `rate_limit` or `concurrency`), which the
session answers as a JSON-RPC error naming the reason, and is written as a `decision`
record so metrics and alerts see it. A principal's own HTTP rate limit is checked by the
HTTP front before the body is dispatched and answered with 429 and `Retry-After`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any

from mcpwarden.admin.config import LimitsConfig, RateConfig
from mcpwarden.admin.killswitch import Disabled, KillSwitchStore
from mcpwarden.admin.ratelimit import ConcurrencyLimiter, InFlightCounts, Rate, RateLimiter, TokenBuckets
from mcpwarden.gateway.http_errors import HttpRejection
from mcpwarden.store.base import StoreUnavailable
from mcpwarden.types import Decision, Denied, Principal

AuditFn = Callable[..., None]


def _rate(cfg: RateConfig | None) -> Rate | None:
    return Rate(cfg.rate, cfg.burst) if cfg is not None else None


def retry_after_header(seconds: float) -> str:
    """Whole seconds, rounded up, at least 1 (RFC 9110 delay-seconds)."""
    return str(max(1, math.ceil(seconds)))


class Admission:
    def __init__(
        self,
        limits: LimitsConfig | None = None,
        killswitch: KillSwitchStore | None = None,
        audit: AuditFn | None = None,
        *,
        limiter: RateLimiter | None = None,
        concurrency: ConcurrencyLimiter | None = None,
    ) -> None:
        self.limits = limits or LimitsConfig()
        self.killswitch = killswitch
        self.audit: AuditFn = audit or (lambda event, **fields: None)
        self.limiter: RateLimiter = limiter or TokenBuckets(max_keys=self.limits.max_keys)
        self.concurrency: ConcurrencyLimiter = concurrency or InFlightCounts()
        self._principal_rate = _rate(self.limits.per_principal)
        self._upstream_rate = _rate(self.limits.per_upstream)
        self._upstream_rates = {k: Rate(v.rate, v.burst) for k, v in self.limits.upstreams.items()}
        self._tool_rate = _rate(self.limits.per_tool)
        self._tool_rates = {k: Rate(v.rate, v.burst) for k, v in self.limits.tools.items()}
        self._handles: dict[str, str] = {}
        # Set when signed checkpoints are on with `on_audit_loss: refuse`: names how the
        # audit file was lost (deleted, replaced), and then every request is refused.
        self.audit_lost: Callable[[], str | None] = lambda: None

    # -- kill switch ----------------------------------------------------------------------

    def refresh(self) -> None:
        """Pick up changes made by another process (the CLI) and audit them."""
        if self.killswitch is None:
            return
        added, removed = self.killswitch.refresh()
        for entry in added:
            self._audit_change("admin.disable", entry)
        for entry in removed:
            self._audit_change("admin.enable", entry)

    def _audit_change(self, event: str, entry: Disabled) -> None:
        self.audit(
            event,
            principal=entry.disabled_by,
            reason=f"killswitch.{entry.kind}",
            message=f"{entry.kind} {entry.name} {'disabled' if event == 'admin.disable' else 'enabled'}",
            details={"kind": entry.kind, "name": entry.name, "by": entry.disabled_by, "why": entry.reason},
        )

    def handle(self, session_id: str) -> str:
        handle = self._handles.get(session_id)
        if handle is None:
            handle = hashlib.sha256(session_id.encode()).hexdigest()
            if len(self._handles) > 100_000:
                self._handles.clear()
            self._handles[session_id] = handle
        return handle

    def disabled_for(
        self,
        session_id: str,
        principal: Principal,
        upstream: str | None = None,
        tool: str | None = None,
        *,
        refresh: bool = True,
    ) -> Disabled | None:
        ks = self.killswitch
        if ks is None:
            return None
        if refresh:
            self.refresh()
        if ks.empty:
            return None
        return ks.blocks(
            principal_subject=principal.subject,
            principal_key=principal.key,
            session_handle=self.handle(session_id),
            upstream=upstream,
            tool=tool,
        )

    # -- checks ---------------------------------------------------------------------------

    def http_retry_after(self, principal: Principal) -> float:
        """Seconds the principal must wait (0.0: go ahead). Takes a token when allowed.

        A shared bucket that cannot be reached refuses the request (503, audited by the
        front as `store.unavailable`): an unchecked limit is no limit.
        """
        if self._principal_rate is None:
            return 0.0
        try:
            return self.limiter.acquire(f"p:{principal.key}", self._principal_rate)
        except StoreUnavailable as exc:
            raise HttpRejection(503, "store.unavailable", str(exc)) from exc

    def check_request(self, sid: str, who: Principal, *, charge_principal: bool, ctx: dict[str, Any]) -> None:
        """Every client request: a disabled principal or session, the principal's rate (stdio).

        `ctx` holds the audit fields of a refusal record (session, principal, method, ...).
        """
        lost = self.audit_lost()
        if lost is not None:
            self._deny(
                "audit",
                "audit.unavailable",
                f"the audit file was {lost}; the gateway will not run unaudited",
                ctx,
            )
        hit = self.disabled_for(sid, who)
        if hit is not None:
            self._deny("kill_switch", f"killswitch.{hit.kind}", f"{hit.kind} disabled by an operator", ctx)
        if charge_principal and self._principal_rate is not None:
            wait = self.limiter.acquire(f"p:{who.key}", self._principal_rate)
            if wait > 0:
                self._limited("rate.principal", "this principal's request rate", wait, ctx)

    def check_call(
        self, sid: str, who: Principal, upstream: str, tool: str | None, ctx: dict[str, Any]
    ) -> None:
        """A request routed to an upstream: disabled server or tool, upstream and tool rates."""
        # check_request refreshed the set for this same request a moment ago.
        hit = self.disabled_for(sid, who, upstream, tool, refresh=False)
        if hit is not None:
            self._deny("kill_switch", f"killswitch.{hit.kind}", f"{hit.kind} disabled by an operator", ctx)
        rate = self._upstream_rates.get(upstream, self._upstream_rate)
        if rate is not None:
            wait = self.limiter.acquire(f"u:{upstream}", rate)
            if wait > 0:
                self._limited("rate.upstream", f"upstream {upstream!r} rate", wait, ctx)
        if tool is not None:
            rate = self._tool_rates.get(f"{upstream}/{tool}") or self._tool_rates.get(tool) or self._tool_rate
            if rate is not None:
                wait = self.limiter.acquire(f"t:{upstream}/{tool}", rate)
                if wait > 0:
                    self._limited("rate.tool", f"tool {tool!r} rate", wait, ctx)

    def enter(self, sid: str, who: Principal, ctx: dict[str, Any]) -> bool:
        """Count a call in flight; raises `Denied` over a cap. True when `leave` must follow."""
        per_session = self.limits.max_concurrent_per_session
        per_principal = self.limits.max_concurrent_per_principal
        if per_session is None and per_principal is None:
            return False
        if per_session is not None and not self.concurrency.enter(f"s:{sid}", per_session):
            self._deny("concurrency", "concurrency.session", f"more than {per_session} calls in flight", ctx)
        if per_principal is not None and not self.concurrency.enter(f"p:{who.key}", per_principal):
            if per_session is not None:
                self.concurrency.leave(f"s:{sid}")
            self._deny(
                "concurrency", "concurrency.principal", f"more than {per_principal} calls in flight", ctx
            )
        return True

    def leave(self, session_id: str, principal: Principal) -> None:
        if self.limits.max_concurrent_per_session is not None:
            self.concurrency.leave(f"s:{session_id}")
        if self.limits.max_concurrent_per_principal is not None:
            self.concurrency.leave(f"p:{principal.key}")

    # -- refusals -------------------------------------------------------------------------

    def _limited(self, reason: str, what: str, wait: float, ctx: dict[str, Any]) -> None:
        self._deny(
            "rate_limit",
            reason,
            f"rate limit exceeded ({what}); retry after {wait:.2f}s",
            ctx,
            retry_after=round(wait, 3),
        )

    def _deny(self, guard: str, reason: str, message: str, ctx: dict[str, Any], **details: Any) -> None:
        decision = Decision.deny(reason, message, **details)
        self.audit(
            "decision",
            decision="deny",
            guard=guard,
            reason=reason,
            message=message,
            details=details or None,
            **ctx,
        )
        raise Denied(guard, decision)
