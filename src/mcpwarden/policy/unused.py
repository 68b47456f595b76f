"""Least-privilege report: granted permissions the audit trail never saw used.

A grant is one (rule, role, upstream pattern, kind, target pattern) combination of an
allow rule. Each allowed request in the window credits the grants that explain it:

- an event that names the deciding rule (`rule` or `details.rule`) credits that rule;
- an event whose principal carries claims is re-decided with the current policy, and
  credits the allowing rule for the roles the caller held that the rule names;
- an event whose principal is only a subject string (the audit log's default) cannot be
  tied to roles, so it credits every grant whose upstream and target match, for all of
  the rule's roles. That over-credits, which keeps the report conservative: it never
  calls a permission unused that might have been used; the count of such events is
  reported so the reader knows how sharp the answer is.

Audit lines are read tolerantly: unknown fields are ignored, malformed lines counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import re2

from mcpwarden.policy.engine import CompiledRule, PolicyEngine
from mcpwarden.policy.model import GOVERNED_METHODS, Kind
from mcpwarden.policy.patterns import NameGlob, UriGlob

_DURATION = re2.compile(r"([0-9]+)([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PASSED = frozenset({"allow", "allowed", "pass", "rewrite", "alert"})
_METHOD_KIND: dict[str, Kind] = {"tools/call": "tool", "resources/read": "resource", "prompts/get": "prompt"}


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m`, `2w`, `45s` → timedelta."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"bad duration {text!r}; use a number and one of s, m, h, d, w (e.g. 30d)")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def parse_time(text: str) -> datetime:
    """RFC 3339 → aware datetime (naive input is taken as UTC)."""
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True, order=True)
class Grant:
    rule: str
    role: str
    upstream: str
    kind: str
    pattern: str


@dataclass(slots=True)
class UnusedReport:
    grants: list[Grant]
    used: set[Grant]
    events_considered: int = 0
    events_without_roles: int = 0
    lines_skipped: int = 0
    since: datetime | None = None
    counts: dict[Grant, int] = field(default_factory=dict)

    @property
    def unused(self) -> list[Grant]:
        return [g for g in self.grants if g not in self.used]


def grants_of(engine: PolicyEngine) -> list[Grant]:
    """Every grant the policy makes, in file order."""
    out: list[Grant] = []
    for rule in engine.rules:
        r = rule.rule
        if r.effect != "allow":
            continue
        for role in r.roles:
            for upstream in r.upstreams:
                if r.upstream_level:
                    out.append(Grant(r.id, role, upstream, "upstream", "*"))
                    continue
                for kind in ("tool", "resource", "prompt", "method"):
                    for pattern in r.patterns(kind) or ():
                        out.append(Grant(r.id, role, upstream, kind, pattern))
    return out


def read_audit(paths: Iterable[Path]) -> Iterator[dict[str, Any] | None]:
    """Yield each line's JSON object, or None for a line that is not one."""
    for path in paths:
        with path.open("rb") as handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError:
                    yield None
                    continue
                yield record if isinstance(record, dict) else None


def _target(record: Mapping[str, Any], kind: Kind) -> str | None:
    if kind == "method":
        method = record.get("method")
        return method if isinstance(method, str) and method else None
    details = record.get("details")
    details = details if isinstance(details, Mapping) else {}
    keys = {"tool": ("tool", "name"), "resource": ("uri", "resource"), "prompt": ("prompt", "name")}[kind]
    for source in (record, details):
        for key in keys:
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def _kind_of(method: Any) -> Kind:
    """Which kind of grant a request of `method` uses (session-level methods: the upstream)."""
    if not isinstance(method, str):
        return "upstream"
    if method in _METHOD_KIND:
        return _METHOD_KIND[method]
    return "upstream" if method in GOVERNED_METHODS else "method"


def _claims(record: Mapping[str, Any], claims_by_principal: Mapping[str, Any]) -> dict[str, Any] | None:
    principal = record.get("principal")
    if isinstance(principal, Mapping):
        claims = principal.get("claims")
        if isinstance(claims, Mapping):
            return dict(claims)
        key = principal.get("subject") or principal.get("key")
    else:
        key = principal
    if isinstance(key, str):
        mapped = claims_by_principal.get(key)
        if isinstance(mapped, Mapping):
            return dict(mapped)
    return None


def _target_patterns(rule: CompiledRule, kind: Kind, target: str) -> list[str]:
    """The rule's own patterns (not the rule as a whole) that match the target."""
    patterns = rule.rule.patterns(kind) or []
    if kind == "resource":
        return [p for p in patterns if UriGlob.compile(p).match(target)]
    return [p for p in patterns if NameGlob.compile(p).match(target)]


def _credit(rule: CompiledRule, roles: Iterable[str], upstream: str, kind: Kind, target: str) -> list[Grant]:
    upstreams = [p for p in rule.rule.upstreams if NameGlob.compile(p).match(upstream)]
    if rule.upstream_level:
        pairs = [("upstream", "*")]
    elif kind == "upstream":
        pairs = []
    else:
        pairs = [(kind, p) for p in _target_patterns(rule, kind, target)]
    return [Grant(rule.id, role, up, k, p) for role in roles for up in upstreams for k, p in pairs]


def _credited_roles(rule: CompiledRule, roles: frozenset[str] | None) -> list[str]:
    if roles is None:
        return list(rule.rule.roles)
    return [r for r in rule.rule.roles if r == "*" or r in roles]


class _Attributor:
    """Works out which grants one audit record used."""

    def __init__(self, engine: PolicyEngine, claims_by_principal: Mapping[str, Any]) -> None:
        self.engine = engine
        self.claims_by_principal = claims_by_principal
        self.by_id = {r.id: r for r in engine.rules}
        self.allow = [r for r in engine.rules if r.rule.effect == "allow"]

    def grants(self, record: Mapping[str, Any]) -> tuple[list[Grant], bool]:
        """The grants credited, and whether the caller's roles were known."""
        upstream = record.get("upstream")
        if not isinstance(upstream, str):
            return [], True
        method = record.get("method")
        kind: Kind = _kind_of(method)
        target = _target(record, kind) if kind != "upstream" else ""
        if target is None:
            kind, target = "upstream", ""
        claims = _claims(record, self.claims_by_principal)
        roles = self.engine.extractor.roles(claims) if claims is not None else None
        hinted = _rule_hint(record)
        candidates: list[CompiledRule]
        if hinted is not None and hinted in self.by_id:
            candidates = [self.by_id[hinted]]
        elif roles is not None and kind != "upstream":
            decision = self.engine.decide_for_roles(roles, upstream, kind, target, _arguments(record))
            rule = self.by_id.get(decision.rule_id or "")
            candidates = [rule] if rule is not None and rule.rule.effect == "allow" else []
        else:
            candidates = self.allow
        out: list[Grant] = []
        for rule in candidates:
            if roles is not None and not rule.applies_to(roles):
                continue
            out += _credit(rule, _credited_roles(rule, roles), upstream, kind, target)
        # Reaching the upstream at all uses the upstream-level grants the caller holds.
        if kind != "upstream":
            for rule in self.allow:
                if rule.upstream_level and (roles is None or rule.applies_to(roles)):
                    out += _credit(rule, _credited_roles(rule, roles), upstream, "upstream", "")
        return out, roles is not None


def _rule_hint(record: Mapping[str, Any]) -> str | None:
    details = record.get("details")
    for source in (record, details if isinstance(details, Mapping) else {}):
        value = source.get("rule")
        if isinstance(value, str):
            return value
    return None


def _arguments(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    value = record.get("arguments")
    return value if isinstance(value, Mapping) else None


def build_report(
    engine: PolicyEngine,
    records: Iterable[dict[str, Any] | None],
    since: datetime | None,
    claims_by_principal: Mapping[str, Any] | None = None,
) -> UnusedReport:
    report = UnusedReport(grants=grants_of(engine), used=set(), since=since)
    attributor = _Attributor(engine, claims_by_principal or {})
    for record in records:
        if record is None:
            report.lines_skipped += 1
            continue
        if record.get("event", "request") != "request" or record.get("decision") not in _PASSED:
            continue
        stamp = record.get("time")
        if since is not None:
            if not isinstance(stamp, str):
                report.lines_skipped += 1
                continue
            try:
                when = parse_time(stamp)
            except ValueError:
                report.lines_skipped += 1
                continue
            if when < since:
                continue
        report.events_considered += 1
        grants, roles_known = attributor.grants(record)
        if not roles_known:
            report.events_without_roles += 1
        for grant in grants:
            report.used.add(grant)
            report.counts[grant] = report.counts.get(grant, 0) + 1
    return report
