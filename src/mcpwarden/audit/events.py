"""The standard fields of an audit record, typed, so callers cannot misspell them.

Fields left as `None` are omitted from the record (not applicable), which keeps lines
short; `details` carries anything event-specific that has no standard field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Final

from mcpwarden.audit.canonical import args_digest
from mcpwarden.types import Decision, Exchange

# Event kinds the gateway and wrapper emit; free text is allowed, these are the common ones.
REQUEST: Final = "request"
RESPONSE: Final = "response"
NOTIFICATION: Final = "notification"
DECISION: Final = "decision"
ERROR: Final = "error"
ALERT: Final = "alert"
SESSION_START: Final = "session.start"
SESSION_END: Final = "session.end"

# Fields the log itself owns; a caller who sets them is trying to forge the chain.
CHAIN_FIELDS: Final = frozenset({"seq", "prev", "hash", "chain"})


@dataclass(slots=True, kw_only=True)
class AuditEvent:
    """One thing that happened, before the log adds time, sequence and hashes.

    `arguments` is the raw argument object of a call: the log always records its SHA-256
    as `args_sha256` and keeps the raw value only when configured to
    (`include_raw_arguments`), because arguments routinely carry secrets and personal data.
    """

    event: str
    time: str | None = None
    session: str | None = None
    principal: str | None = None
    upstream: str | None = None
    method: str | None = None
    tool: str | None = None
    request_id: str | int | None = None
    decision: str | None = None
    guard: str | None = None
    reason: str | None = None
    message: str | None = None
    latency_ms: float | None = None
    request_bytes: int | None = None
    response_bytes: int | None = None
    args_sha256: str | None = None
    arguments: Any = None
    details: dict[str, Any] | None = None
    # The gateway replica that wrote the record (several replicas: one chain each).
    replica: str | None = None

    def to_fields(self) -> dict[str, Any]:
        """The set fields as a dict, `None` ones dropped."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = value
        return out

    @classmethod
    def from_exchange(cls, ex: Exchange, event: str, **extra: Any) -> AuditEvent:
        """Fill session, principal, upstream, method, tool and arguments from an exchange."""
        base: dict[str, Any] = {
            "session": ex.session_id,
            "principal": ex.principal.subject,
            "upstream": ex.upstream,
            "method": ex.method,
            "tool": ex.tool,
            "request_id": ex.request_id,
        }
        if ex.method == "tools/call" and "arguments" in ex.params:
            base["arguments"] = ex.params["arguments"]
        base.update(extra)
        return cls(event=event, **base)

    @classmethod
    def from_decision(cls, ex: Exchange, guard: str, decision: Decision, **extra: Any) -> AuditEvent:
        """The record for one guard outcome: who decided what, and the reason code."""
        details = dict(decision.details) if decision.details else None
        if extra.get("details"):
            details = {**(details or {}), **extra.pop("details")}
        return cls.from_exchange(
            ex,
            "decision",
            guard=guard,
            decision=decision.kind,
            reason=decision.reason,
            message=decision.message,
            details=details,
            **extra,
        )


EVENT_FIELDS: Final = frozenset(f.name for f in fields(AuditEvent))


def event_fields(
    event: AuditEvent | dict[str, Any],
    *,
    include_raw_arguments: bool,
    replica: str | None,
    now: Callable[[], str],
) -> dict[str, Any]:
    """The fields a record is made of: validated, `arguments` reduced to their digest unless
    raw arguments are kept, `time` and `replica` filled in when the caller left them out."""
    if isinstance(event, AuditEvent):
        out = event.to_fields()
    else:
        if not CHAIN_FIELDS.isdisjoint(event):
            raise ValueError(f"audit events may not set chain fields: {sorted(CHAIN_FIELDS & event.keys())}")
        if not EVENT_FIELDS.issuperset(event):
            unknown = sorted(event.keys() - EVENT_FIELDS)
            raise ValueError(f"unknown audit fields {unknown}; put them in 'details'")
        if "event" not in event:
            raise ValueError("an audit event needs an 'event' kind")
        out = {k: v for k, v in event.items() if v is not None}
    if "arguments" in out:
        arguments = out["arguments"] if include_raw_arguments else out.pop("arguments")
        out.setdefault("args_sha256", args_digest(arguments))
    out.setdefault("time", now())
    if replica is not None:
        out.setdefault("replica", replica)
    return out
