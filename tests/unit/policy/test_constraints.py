from typing import Any

import pytest
import re2

from mcpwarden.policy.constraints import ArgumentChecker, CompiledConstraint
from mcpwarden.policy.model import ArgumentConstraint


def check(spec: dict[str, Any], value: Any) -> str | None:
    violation = CompiledConstraint("a", ArgumentConstraint.model_validate(spec)).check({"a": value})
    return None if violation is None else violation.constraint


def test_enum_accepts_listed_value() -> None:
    assert check({"enum": ["fast", "slow"]}, "fast") is None


def test_enum_rejects_unlisted_value() -> None:
    assert check({"enum": ["fast", "slow"]}, "turbo") == "enum"


def test_enum_distinguishes_true_from_one() -> None:
    assert check({"enum": [1]}, True) == "enum"


def test_regex_is_a_full_match() -> None:
    assert check({"regex": "[a-z]+"}, "abc") is None
    assert check({"regex": "[a-z]+"}, "abc; rm -rf /") == "regex"


def test_regex_runs_on_re2(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[str] = []
    real = re2.compile

    def spy(pattern: str, *args: Any) -> Any:
        compiled.append(pattern)
        return real(pattern, *args)

    monkeypatch.setattr(re2, "compile", spy)
    CompiledConstraint("a", ArgumentConstraint(regex="(a+)+$"))
    assert compiled == ["(a+)+$"]


def test_regex_with_backreference_is_rejected_at_compile_time() -> None:
    with pytest.raises(ValueError, match="invalid regex"):
        CompiledConstraint("a", ArgumentConstraint(regex=r"(a)\1"))


def test_regex_rejects_non_string() -> None:
    assert check({"regex": "[0-9]+"}, 123) == "regex"


def test_range_accepts_bounds_inclusive() -> None:
    assert check({"min": 1, "max": 10}, 10) is None
    assert check({"min": 1, "max": 10}, 1) is None


def test_range_rejects_out_of_bounds() -> None:
    assert check({"min": 1, "max": 10}, 11) == "range"
    assert check({"min": 1, "max": 10}, 0.5) == "range"


def test_range_rejects_numeric_string_boolean_and_nan() -> None:
    assert check({"max": 10}, "5") == "range"
    assert check({"max": 10}, True) == "range"
    assert check({"max": 10}, float("nan")) == "range"


def test_max_length_counts_characters() -> None:
    assert check({"max_length": 3}, "abc") is None
    assert check({"max_length": 3}, "abcd") == "max_length"


def test_max_length_rejects_non_string_non_array() -> None:
    assert check({"max_length": 3}, {"k": "v"}) == "max_length"


def test_path_prefix_rejects_traversal() -> None:
    assert check({"path_prefix": "/srv"}, "/srv/../etc") == "path_prefix"


def test_path_prefix_rejects_non_string() -> None:
    assert check({"path_prefix": "/srv"}, ["/srv/a"]) == "path_prefix"


def test_missing_constrained_argument_is_a_violation() -> None:
    spec = ArgumentConstraint(max_length=3)
    assert CompiledConstraint("a", spec).check({}) is not None


def test_missing_optional_argument_passes() -> None:
    spec = ArgumentConstraint(max_length=3, optional=True)
    assert CompiledConstraint("a", spec).check({}) is None


def test_strict_arguments_reject_unnamed_arguments() -> None:
    checker = ArgumentChecker({"q": ArgumentConstraint(max_length=5)}, strict=True)
    assert [v.argument for v in checker.check({"q": "x", "sudo": True})] == ["sudo"]


def test_constraint_needs_at_least_one_condition() -> None:
    with pytest.raises(ValueError):
        ArgumentConstraint(optional=True)


def test_min_above_max_is_rejected() -> None:
    with pytest.raises(ValueError):
        ArgumentConstraint(min=5, max=1)
