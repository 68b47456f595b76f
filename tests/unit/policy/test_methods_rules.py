"""The `methods:` rule key: strict validation, engine decisions, cases, explain, unused."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from mcpwarden.cli import main
from mcpwarden.policy import parse_policy
from mcpwarden.policy.engine import ALLOWED, DENIED, NO_RULE
from mcpwarden.policy.unused import Grant, build_report

from .policy_helpers import engine_for, principal

POLICY: dict[str, Any] = {
    "roles": {"claims": [{"path": "roles"}]},
    "rules": [
        {"id": "vendor", "roles": ["v"], "upstreams": ["fs"], "methods": ["vendor/search", "acme/*"]},
        {"id": "no-wipe", "effect": "deny", "roles": ["*"], "methods": ["acme/wipe"]},
    ],
}
V = principal(roles=["v"])


def rule(**fields: Any) -> dict[str, Any]:
    return {"rules": [{"id": "r", "roles": ["v"], **fields}]}


@pytest.mark.parametrize("method", ["tools/call", "completion/complete", "resources/subscribe", "ping"])
def test_methods_naming_a_governed_method_is_rejected(method: str) -> None:
    with pytest.raises(ValidationError, match="not by methods"):
        parse_policy(rule(methods=[method]))


@pytest.mark.parametrize("method", ["", "vendor/ x"])
def test_methods_pattern_empty_or_with_whitespace_is_rejected(method: str) -> None:
    with pytest.raises(ValidationError, match="empty or has whitespace"):
        parse_policy(rule(methods=[method]))


def test_misspelled_methods_key_is_rejected() -> None:
    with pytest.raises(ValidationError):
        parse_policy(rule(method=["vendor/x"]))


def test_methods_rule_cannot_carry_argument_constraints() -> None:
    with pytest.raises(ValidationError, match="need tools or prompts"):
        parse_policy(rule(methods=["vendor/x"], arguments={"q": {"max_length": 3}}))


def test_methods_rule_is_not_upstream_level() -> None:
    assert not parse_policy(rule(methods=["vendor/x"])).rules[0].upstream_level


def test_engine_allows_a_granted_method_naming_the_rule() -> None:
    decision = engine_for(POLICY).decide(V, "fs", "method", "acme/export")
    assert (decision.allowed, decision.code, decision.rule_id, decision.matched) == (
        True,
        ALLOWED,
        "vendor",
        "acme/*",
    )


def test_engine_denies_a_method_hit_by_a_deny_rule() -> None:
    decision = engine_for(POLICY).decide(V, "fs", "method", "acme/wipe")
    assert (decision.code, decision.rule_id) == (DENIED, "no-wipe")


def test_engine_denies_an_ungranted_method_as_no_rule() -> None:
    assert engine_for(POLICY).decide(V, "fs", "method", "other/x").code == NO_RULE


def test_methods_grant_gives_access_to_the_upstream() -> None:
    assert engine_for(POLICY).decide(V, "fs", "upstream").allowed


def test_policy_test_case_with_method_shorthand(tmp_path: Path) -> None:
    cases = {
        "policy": POLICY,
        "cases": [
            {"claims": {"roles": ["v"]}, "upstream": "fs", "method": "vendor/search", "expect": "allow"},
            {"claims": {"roles": ["v"]}, "upstream": "fs", "method": "acme/wipe", "expect": "deny"},
        ],
    }
    path = tmp_path / "m.cases.yaml"
    path.write_text(yaml.safe_dump(cases))
    assert main(["policy", "test", str(path)]) == 0


def test_explain_decides_a_method(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(POLICY))
    argv = ["policy", "explain", "-p", str(path), "--claims", '{"roles": ["v"]}', "--upstream", "fs"]
    assert main([*argv, "--method", "vendor/search"]) == 0
    assert main([*argv, "--method", "vendor/other"]) == 1


def test_unused_report_credits_a_used_method_grant() -> None:
    record = {
        "event": "request",
        "decision": "allow",
        "principal": {"claims": {"roles": ["v"]}},
        "upstream": "fs",
        "method": "vendor/search",
    }
    report = build_report(engine_for(POLICY), [record], None)
    assert Grant("vendor", "v", "fs", "method", "vendor/search") in report.used
    assert Grant("vendor", "v", "fs", "method", "acme/*") in report.unused
