"""The compiled policy: one decision per call, deny by default.

`PolicyEngine` is built once from a `PolicyDocument`. Rules are grouped per upstream
name on first use (upstream names come from the gateway config, so the cache stays
small) and split by effect and kind, so a decision touches only the rules that could
apply. Order of evaluation:

1. deny rules that match the caller's roles and the target: denied, naming the rule;
2. allow rules that match roles and target, in file order: the first whose argument
   constraints all hold allows; if some matched but every one had violations, the call
   is denied as `policy.argument` with the first such rule's violations;
3. nothing matched: denied as `policy.no_rule`.

Resource URIs are matched in every plausible decoding (see `policy.paths`): an allow
needs all of them to match, a deny needs any one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re2

from mcpwarden.policy.constraints import ArgumentChecker, Violation
from mcpwarden.policy.model import KINDS, Kind, PolicyDocument, Rule, load_policy
from mcpwarden.policy.paths import PathRejected, uri_interpretations
from mcpwarden.policy.patterns import NameSet, UriSet
from mcpwarden.policy.roles import RoleExtractor
from mcpwarden.types import Principal

ALLOWED = "policy.allowed"
DENIED = "policy.denied"
NO_RULE = "policy.no_rule"
ARGUMENT = "policy.argument"


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """The outcome of one decision; `code` is one of the `policy.*` reason codes."""

    allowed: bool
    code: str
    rule_id: str | None
    reason: str
    violations: tuple[Violation, ...] = ()
    roles: frozenset[str] = field(default_factory=frozenset)
    matched: str | None = None  # the pattern of the deciding rule that matched the target


class CompiledRule:
    """A rule with its patterns and constraints compiled for the hot path."""

    __slots__ = ("any_role", "arguments", "names", "roles", "rule", "upstream_level", "upstreams", "uris")

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.roles = frozenset(rule.roles)
        self.any_role = "*" in self.roles
        self.upstreams = NameSet(rule.upstreams)
        self.upstream_level = rule.upstream_level
        self.names: dict[Kind, NameSet] = {}
        if rule.tools is not None:
            self.names["tool"] = NameSet(rule.tools)
        if rule.prompts is not None:
            self.names["prompt"] = NameSet(rule.prompts)
        if rule.methods is not None:
            self.names["method"] = NameSet(rule.methods)
        self.uris = UriSet(rule.resources) if rule.resources is not None else None
        self.arguments = ArgumentChecker(rule.arguments, rule.strict_arguments)

    @property
    def id(self) -> str:
        return self.rule.id

    def applies_to(self, roles: frozenset[str]) -> bool:
        return self.any_role or not self.roles.isdisjoint(roles)

    def has_kind(self, kind: Kind) -> bool:
        if kind == "resource":
            return self.uris is not None
        return kind in self.names

    def match_name(self, kind: Kind, name: str) -> str | None:
        names = self.names.get(kind)
        return names.match(name) if names is not None else None

    def match_uri_all(self, readings: list[str]) -> str | None:
        if self.uris is None or not readings:
            return None
        first = self.uris.match(readings[0])
        if first is None:
            return None
        return first if all(self.uris.match(r) is not None for r in readings[1:]) else None

    def match_uri_any(self, readings: list[str]) -> str | None:
        if self.uris is None:
            return None
        for reading in readings:
            hit = self.uris.match(reading)
            if hit is not None:
                return hit
        return None


@dataclass(frozen=True, slots=True)
class _UpstreamRules:
    """The rules relevant to one upstream, split by effect and kind."""

    deny_upstream: tuple[CompiledRule, ...]
    deny: dict[Kind, tuple[CompiledRule, ...]]
    allow: dict[Kind, tuple[CompiledRule, ...]]
    allow_any: tuple[CompiledRule, ...]


class PolicyEngine:
    """Decides whether a principal may use an upstream, tool, resource or prompt."""

    def __init__(self, document: PolicyDocument) -> None:
        self.document = document
        self.extractor = RoleExtractor(document.roles)
        self.rules = tuple(CompiledRule(r) for r in document.rules)
        self._by_upstream: dict[str, _UpstreamRules] = {}

    @classmethod
    def from_file(cls, path: str | Path) -> PolicyEngine:
        return cls(load_policy(path))

    def roles_of(self, principal: Principal) -> frozenset[str]:
        return self.extractor.roles(principal.claims)

    def _for_upstream(self, upstream: str) -> _UpstreamRules:
        cached = self._by_upstream.get(upstream)
        if cached is not None:
            return cached
        relevant = [r for r in self.rules if r.upstreams.match(upstream) is not None]
        deny = [r for r in relevant if r.rule.effect == "deny"]
        allow = [r for r in relevant if r.rule.effect == "allow"]
        built = _UpstreamRules(
            deny_upstream=tuple(r for r in deny if r.upstream_level),
            deny={k: tuple(r for r in deny if r.has_kind(k)) for k in KINDS},
            allow={k: tuple(r for r in allow if r.has_kind(k)) for k in KINDS},
            allow_any=tuple(allow),
        )
        if len(self._by_upstream) < 4096:  # upstream names are config-defined; bound anyway
            self._by_upstream[upstream] = built
        return built

    def decide(
        self,
        principal: Principal,
        upstream: str,
        kind: Kind,
        name: str = "",
        arguments: Mapping[str, Any] | None = None,
    ) -> PolicyDecision:
        """Decide one call. `name` is the tool, prompt or method name, or the resource URI."""
        return self.decide_for_roles(self.roles_of(principal), upstream, kind, name, arguments)

    def decide_for_roles(
        self,
        roles: frozenset[str],
        upstream: str,
        kind: Kind,
        name: str = "",
        arguments: Mapping[str, Any] | None = None,
    ) -> PolicyDecision:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        rules = self._for_upstream(upstream)
        for rule in rules.deny_upstream:
            if rule.applies_to(roles):
                return PolicyDecision(
                    False, DENIED, rule.id, f"upstream {upstream!r} denied by rule {rule.id!r}", roles=roles
                )
        if kind == "upstream":
            for rule in rules.allow_any:
                if rule.applies_to(roles):
                    return PolicyDecision(
                        True,
                        ALLOWED,
                        rule.id,
                        f"upstream {upstream!r} reachable through rule {rule.id!r}",
                        roles=roles,
                    )
            return PolicyDecision(False, NO_RULE, None, f"no rule grants upstream {upstream!r}", roles=roles)

        readings: list[str] = []
        if kind == "resource":
            try:
                readings = uri_interpretations(name)
            except PathRejected as exc:
                return PolicyDecision(False, DENIED, None, f"resource URI rejected: {exc}", roles=roles)
        for rule in rules.deny[kind]:
            if not rule.applies_to(roles):
                continue
            hit = rule.match_uri_any(readings) if kind == "resource" else rule.match_name(kind, name)
            if hit is not None:
                return PolicyDecision(
                    False,
                    DENIED,
                    rule.id,
                    f"{kind} {name!r} denied by rule {rule.id!r} ({hit})",
                    roles=roles,
                    matched=hit,
                )
        args: Mapping[str, Any] = arguments if arguments is not None else {}
        first_violation: PolicyDecision | None = None
        for rule in rules.allow[kind]:
            if not rule.applies_to(roles):
                continue
            hit = rule.match_uri_all(readings) if kind == "resource" else rule.match_name(kind, name)
            if hit is None:
                continue
            if rule.arguments:
                violations = rule.arguments.check(args)
                if violations:
                    if first_violation is None:
                        first_violation = PolicyDecision(
                            False,
                            ARGUMENT,
                            rule.id,
                            f"{kind} {name!r} matched rule {rule.id!r} but arguments violate it",
                            tuple(violations),
                            roles,
                            hit,
                        )
                    continue
            return PolicyDecision(
                True,
                ALLOWED,
                rule.id,
                f"{kind} {name!r} allowed by rule {rule.id!r} ({hit})",
                roles=roles,
                matched=hit,
            )
        if first_violation is not None:
            return first_violation
        return PolicyDecision(
            False, NO_RULE, None, f"no rule grants {kind} {name!r} on upstream {upstream!r}", roles=roles
        )

    def visible(self, principal: Principal, upstream: str, kind: Kind, names: Iterable[str]) -> set[str]:
        """The names a caller may see in a list: allowed ignoring arguments, not denied.

        Argument constraints cannot be judged before a call, so they do not hide an
        entry; the call itself is still checked.
        """
        roles = self.roles_of(principal)
        return {n for n in names if self._visible(roles, upstream, kind, n)}

    def _visible(self, roles: frozenset[str], upstream: str, kind: Kind, name: str) -> bool:
        decision = self.decide_for_roles(roles, upstream, kind, name)
        return decision.allowed or decision.code == ARGUMENT

    def template_visible(self, principal: Principal, upstream: str, uri_template: str) -> bool:
        """Whether a resource template can expand to any URI the caller may read.

        Templates are shown when an allow rule may cover some expansion and no deny
        rule surely covers all of them; each concrete read is still decided exactly.
        """
        return self.decide_template(principal, upstream, uri_template).allowed

    def decide_template(self, principal: Principal, upstream: str, uri_template: str) -> PolicyDecision:
        """`template_visible` as a decision naming the rule (completions of a template use it)."""
        roles = self.roles_of(principal)
        rules = self._for_upstream(upstream)
        for rule in rules.deny_upstream:
            if rule.applies_to(roles):
                return PolicyDecision(
                    False, DENIED, rule.id, f"upstream {upstream!r} denied by rule {rule.id!r}", roles=roles
                )
        brace = uri_template.find("{")
        prefix = uri_template if brace < 0 else uri_template[:brace]
        sample = _TEMPLATE_EXPR.sub("x", uri_template)
        for rule in rules.deny["resource"]:
            if not rule.applies_to(roles) or rule.uris is None:
                continue
            for g in rule.uris.globs:
                if g.covers_template(prefix) or g.match(uri_template):
                    return PolicyDecision(
                        False,
                        DENIED,
                        rule.id,
                        f"resource template {uri_template!r} denied by rule {rule.id!r} ({g.pattern})",
                        roles=roles,
                        matched=g.pattern,
                    )
        for rule in rules.allow["resource"]:
            if not rule.applies_to(roles) or rule.uris is None:
                continue
            for g in rule.uris.globs:
                if g.may_match_template(prefix, sample):
                    return PolicyDecision(
                        True,
                        ALLOWED,
                        rule.id,
                        f"resource template {uri_template!r} allowed by rule {rule.id!r} ({g.pattern})",
                        roles=roles,
                        matched=g.pattern,
                    )
        return PolicyDecision(
            False,
            NO_RULE,
            None,
            f"no rule grants resource template {uri_template!r} on upstream {upstream!r}",
            roles=roles,
        )


_TEMPLATE_EXPR = re2.compile(r"\{[^}]*\}")
