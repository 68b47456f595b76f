from typing import Any

import pytest

from mcpwarden.policy import ALLOWED, ARGUMENT, DENIED, NO_RULE

from .policy_helpers import ROLES_FROM_ROLES_CLAIM, engine_for, principal

BASE: dict[str, Any] = {
    "roles": ROLES_FROM_ROLES_CLAIM,
    "rules": [
        {"id": "read-docs", "roles": ["reader"], "upstreams": ["docs"], "tools": ["search", "read_*"]},
        {"id": "admin-all", "roles": ["admin"], "upstreams": ["*"], "tools": ["*"]},
        {"id": "no-delete", "effect": "deny", "roles": ["*"], "upstreams": ["*"], "tools": ["delete_*"]},
        {"id": "docs-files", "roles": ["reader"], "upstreams": ["docs"], "resources": ["file:///docs/**"]},
        {"id": "docs-prompts", "roles": ["reader"], "upstreams": ["docs"], "prompts": ["summarize"]},
    ],
}
READER = principal(roles=["reader"])
ADMIN = principal(roles=["admin"])


def test_nothing_granted_means_deny_with_no_rule() -> None:
    decision = engine_for(BASE).decide(principal(roles=[]), "docs", "tool", "search")
    assert (decision.allowed, decision.code, decision.rule_id) == (False, NO_RULE, None)


def test_empty_policy_denies_everything() -> None:
    assert not engine_for({}).decide(ADMIN, "docs", "tool", "search").allowed


def test_granted_tool_is_allowed_naming_the_rule() -> None:
    decision = engine_for(BASE).decide(READER, "docs", "tool", "read_page")
    assert (decision.allowed, decision.code, decision.rule_id) == (True, ALLOWED, "read-docs")
    assert decision.matched == "read_*"


def test_grant_is_limited_to_its_upstream() -> None:
    assert not engine_for(BASE).decide(READER, "mail", "tool", "search").allowed


def test_deny_overrides_allow() -> None:
    decision = engine_for(BASE).decide(ADMIN, "docs", "tool", "delete_everything")
    assert (decision.allowed, decision.code, decision.rule_id) == (False, DENIED, "no-delete")


def test_deny_wins_even_when_listed_after_allow_for_same_role() -> None:
    policy = {
        "roles": ROLES_FROM_ROLES_CLAIM,
        "rules": [
            {"id": "a", "roles": ["r"], "tools": ["x"]},
            {"id": "d", "effect": "deny", "roles": ["r"], "tools": ["x"]},
        ],
    }
    assert engine_for(policy).decide(principal(roles=["r"]), "u", "tool", "x").rule_id == "d"


def test_tool_grant_does_not_grant_prompts_of_same_name() -> None:
    assert not engine_for(BASE).decide(READER, "docs", "prompt", "search").allowed


def test_prompt_grant_is_allowed() -> None:
    assert engine_for(BASE).decide(READER, "docs", "prompt", "summarize").allowed


def test_resource_under_granted_pattern_is_allowed() -> None:
    assert engine_for(BASE).decide(READER, "docs", "resource", "file:///docs/a/b.md").allowed


@pytest.mark.parametrize(
    "uri",
    [
        "file:///docs/../etc/passwd",
        "file:///docs/%2e%2e/etc/passwd",
        "file:///docs/%252e%252e%252fetc/passwd",
        "file:///docs/..\\etc\\passwd",
    ],
)
def test_resource_traversal_out_of_granted_pattern_is_denied(uri: str) -> None:
    assert not engine_for(BASE).decide(READER, "docs", "resource", uri).allowed


def test_resource_deny_matches_any_reading_of_the_uri() -> None:
    policy = {
        "roles": ROLES_FROM_ROLES_CLAIM,
        "rules": [
            {"id": "all", "roles": ["r"], "resources": ["file:///**"]},
            {"id": "no-secrets", "effect": "deny", "roles": ["r"], "resources": ["file:///secrets/**"]},
        ],
    }
    decision = engine_for(policy).decide(principal(roles=["r"]), "u", "resource", "file:///%73ecrets/k")
    assert decision.rule_id == "no-secrets"


def test_upstream_reachable_when_any_grant_exists() -> None:
    assert engine_for(BASE).decide(READER, "docs", "upstream").allowed


def test_upstream_unreachable_without_grant() -> None:
    assert engine_for(BASE).decide(READER, "mail", "upstream").code == NO_RULE


def test_upstream_level_deny_closes_every_capability() -> None:
    policy = {
        "roles": ROLES_FROM_ROLES_CLAIM,
        "rules": [
            {"id": "all", "roles": ["r"], "tools": ["*"]},
            {"id": "closed", "effect": "deny", "roles": ["r"], "upstreams": ["legacy"]},
        ],
    }
    decision = engine_for(policy).decide(principal(roles=["r"]), "legacy", "tool", "anything")
    assert decision.rule_id == "closed"


def test_upstream_level_allow_grants_no_capability() -> None:
    policy = {"roles": ROLES_FROM_ROLES_CLAIM, "rules": [{"id": "reach", "roles": ["r"]}]}
    engine = engine_for(policy)
    assert engine.decide(principal(roles=["r"]), "u", "upstream").allowed
    assert not engine.decide(principal(roles=["r"]), "u", "tool", "x").allowed


def test_argument_violation_denies_with_violations() -> None:
    policy = {
        "roles": ROLES_FROM_ROLES_CLAIM,
        "rules": [{"id": "q", "roles": ["r"], "tools": ["search"], "arguments": {"limit": {"max": 10}}}],
    }
    decision = engine_for(policy).decide(principal(roles=["r"]), "u", "tool", "search", {"limit": 50})
    assert (decision.code, decision.rule_id) == (ARGUMENT, "q")
    assert [v.argument for v in decision.violations] == ["limit"]


def test_later_rule_without_violation_allows_after_earlier_violation() -> None:
    policy = {
        "roles": ROLES_FROM_ROLES_CLAIM,
        "rules": [
            {"id": "small", "roles": ["r"], "tools": ["search"], "arguments": {"limit": {"max": 10}}},
            {"id": "big", "roles": ["power"], "tools": ["search"], "arguments": {"limit": {"max": 1000}}},
        ],
    }
    caller = principal(roles=["r", "power"])
    decision = engine_for(policy).decide(caller, "u", "tool", "search", {"limit": 50})
    assert (decision.allowed, decision.rule_id) == (True, "big")


def test_visible_hides_ungranted_and_denied_names() -> None:
    names = ["search", "read_page", "delete_page", "admin_reset"]
    assert engine_for(BASE).visible(READER, "docs", "tool", names) == {"search", "read_page"}


def test_visible_keeps_names_whose_grant_has_argument_constraints() -> None:
    policy = {
        "roles": ROLES_FROM_ROLES_CLAIM,
        "rules": [{"id": "q", "roles": ["r"], "tools": ["search"], "arguments": {"q": {"max_length": 5}}}],
    }
    assert engine_for(policy).visible(principal(roles=["r"]), "u", "tool", ["search"]) == {"search"}


def test_template_visible_when_grant_covers_its_expansions() -> None:
    engine = engine_for(BASE)
    assert engine.template_visible(READER, "docs", "file:///docs/{path}")
    assert not engine.template_visible(READER, "docs", "file:///etc/{path}")


def test_template_hidden_by_deny_covering_its_prefix() -> None:
    policy = {
        "roles": ROLES_FROM_ROLES_CLAIM,
        "rules": [
            {"id": "all", "roles": ["r"], "resources": ["file:///**"]},
            {"id": "no-secrets", "effect": "deny", "roles": ["r"], "resources": ["file:///secrets/**"]},
        ],
    }
    engine = engine_for(policy)
    assert not engine.template_visible(principal(roles=["r"]), "u", "file:///secrets/{name}")
    assert engine.template_visible(principal(roles=["r"]), "u", "file:///public/{name}")


def test_upstream_glob_selects_rules() -> None:
    policy = {
        "roles": ROLES_FROM_ROLES_CLAIM,
        "rules": [{"id": "gh", "roles": ["r"], "upstreams": ["github-*"], "tools": ["*"]}],
    }
    engine = engine_for(policy)
    assert engine.decide(principal(roles=["r"]), "github-prod", "tool", "x").allowed
    assert not engine.decide(principal(roles=["r"]), "gitlab", "tool", "x").allowed


def test_wildcard_role_applies_to_callers_without_roles() -> None:
    policy = {"rules": [{"id": "pub", "roles": ["*"], "tools": ["ping"]}]}
    assert engine_for(policy).decide(principal(), "u", "tool", "ping").allowed
