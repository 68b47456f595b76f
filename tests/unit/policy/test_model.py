from pathlib import Path

import pytest
from pydantic import ValidationError

from mcpwarden.policy import PolicyEngine, load_policy, parse_policy


def test_misspelled_rule_key_is_rejected() -> None:
    with pytest.raises(ValidationError, match="tool"):
        parse_policy({"rules": [{"id": "x", "roles": ["r"], "tool": ["search"]}]})


def test_duplicate_rule_ids_are_rejected() -> None:
    rule = {"id": "x", "roles": ["r"], "tools": ["a"]}
    with pytest.raises(ValidationError, match="duplicate"):
        parse_policy({"rules": [rule, rule]})


def test_deny_rule_with_argument_constraints_is_rejected() -> None:
    rule = {
        "id": "d",
        "effect": "deny",
        "roles": ["r"],
        "tools": ["a"],
        "arguments": {"p": {"max_length": 1}},
    }
    with pytest.raises(ValidationError, match="deny rules"):
        parse_policy({"rules": [rule]})


def test_rule_without_roles_is_rejected() -> None:
    with pytest.raises(ValidationError):
        parse_policy({"rules": [{"id": "x", "roles": [], "tools": ["a"]}]})


def test_relative_path_prefix_is_rejected_at_compile_time() -> None:
    rule = {"id": "x", "roles": ["r"], "tools": ["a"], "arguments": {"p": {"path_prefix": "srv"}}}
    with pytest.raises(ValueError, match="absolute"):
        PolicyEngine(parse_policy({"rules": [rule]}))


def test_empty_claim_path_segment_is_rejected() -> None:
    with pytest.raises(ValidationError):
        parse_policy({"roles": {"claims": [{"path": "realm_access..roles"}]}})


def test_empty_file_is_an_empty_deny_all_policy(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_policy(path).rules == []
