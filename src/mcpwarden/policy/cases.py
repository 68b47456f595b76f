"""Policy test cases: a YAML file of calls and the decisions they must get.

Policies are security-critical configuration, so they deserve regression tests like
code: `mcpwarden policy test FILE` runs each case through the real engine and reports
every mismatch. The file names its policy (a path relative to the file, or an inline
mapping) unless one is given on the command line. Each case gives `claims`, `upstream`,
`kind` (default tool) and `name` (tool or prompt name, or resource URI), or the
shorthand `tool:`/`resource:`/`prompt:`, plus `arguments`, `expect: allow|deny` and
optionally the `rule` and `code` the decision must carry; `description` labels it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from mcpwarden.policy.engine import PolicyDecision, PolicyEngine
from mcpwarden.policy.model import Kind, PolicyDocument, load_policy, parse_policy
from mcpwarden.types import Principal


class PolicyCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    claims: dict[str, Any] = Field(default_factory=dict)
    upstream: str
    kind: Kind = "tool"
    tool: str | None = None
    resource: str | None = None
    prompt: str | None = None
    method: str | None = None
    arguments: dict[str, Any] = Field(default_factory=dict)
    expect: Literal["allow", "deny"]
    rule: str | None = None
    code: str | None = None


class PolicyCaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: str | dict[str, Any] | None = None
    cases: list[dict[str, Any]] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class CaseResult:
    index: int
    label: str
    passed: bool
    expected: str
    decision: PolicyDecision
    problems: tuple[str, ...]


def _case(raw: dict[str, Any]) -> tuple[PolicyCase, str]:
    """Validate one case; the target is `name` (generic) or `tool`/`resource`/`prompt`/`method`."""
    data = dict(raw)
    target = data.pop("name", None)
    case = PolicyCase.model_validate(data)
    for kind in ("tool", "resource", "prompt", "method"):
        value = getattr(case, kind)
        if value is not None:
            if target is not None and target != value:
                raise ValueError(f"case gives both name {target!r} and {kind} {value!r}")
            case = case.model_copy(update={"kind": kind})
            target = value
    if case.kind != "upstream" and not isinstance(target, str):
        raise ValueError(f"a {case.kind} case needs `name` (or `{case.kind}`)")
    return case, target if isinstance(target, str) else ""


Cases = list[tuple[PolicyCase, str]]


def load_cases(path: Path, policy_override: Path | None) -> tuple[PolicyDocument, Cases]:
    """Read a case file and its policy; raises ValueError with a readable message."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    try:
        spec = PolicyCaseFile.model_validate(raw)
        cases = [_case(c) for c in spec.cases]
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise ValueError(f"{path}: {exc}") from None
    try:
        if policy_override is not None:
            document = load_policy(policy_override)
        elif isinstance(spec.policy, str):
            document = load_policy(path.parent / spec.policy)
        elif isinstance(spec.policy, dict):
            document = parse_policy(spec.policy)
        else:
            raise ValueError("no policy: give `policy:` in the file or -p POLICY.yaml")
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ValueError(f"policy for {path}: {exc}") from None
    return document, cases


def run_cases(engine: PolicyEngine, cases: Cases) -> list[CaseResult]:
    results: list[CaseResult] = []
    for index, (case, target) in enumerate(cases, start=1):
        who = Principal(subject=str(case.claims.get("sub", "case")), claims=case.claims)
        decision = engine.decide(who, case.upstream, case.kind, target, case.arguments)
        problems: list[str] = []
        got = "allow" if decision.allowed else "deny"
        if got != case.expect:
            problems.append(f"expected {case.expect}, got {got}")
        if case.rule is not None and decision.rule_id != case.rule:
            problems.append(f"expected rule {case.rule!r}, got {decision.rule_id!r}")
        if case.code is not None and decision.code != case.code:
            problems.append(f"expected code {case.code!r}, got {decision.code!r}")
        label = case.description or f"{case.kind} {target or case.upstream}"
        results.append(CaseResult(index, label, not problems, case.expect, decision, tuple(problems)))
    return results
