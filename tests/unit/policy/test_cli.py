import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mcpwarden.cli import main

POLICY: dict[str, Any] = {
    "roles": {"claims": [{"path": "roles"}]},
    "rules": [
        {
            "id": "docs-read",
            "roles": ["reader"],
            "upstreams": ["fs"],
            "tools": ["read_*"],
            "arguments": {"path": {"path_prefix": "/srv/docs"}},
        },
        {"id": "ops", "roles": ["ops"], "upstreams": ["fs"], "tools": ["restart"]},
        {"id": "no-rm", "effect": "deny", "roles": ["*"], "tools": ["rm"]},
    ],
}


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(POLICY))
    return path


def explain(policy: Path, tool: str, args: dict[str, Any] | None = None, *extra: str) -> int:
    argv = ["policy", "explain", "-p", str(policy), "--claims", '{"roles": ["reader"]}', "--upstream", "fs"]
    argv += ["--tool", tool]
    if args is not None:
        argv += ["--args", json.dumps(args)]
    return main([*argv, *extra])


def test_explain_names_allowing_rule_and_exits_zero(
    policy_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert explain(policy_file, "read_file", {"path": "/srv/docs/a"}) == 0
    out = capsys.readouterr().out
    assert "ALLOW" in out and "docs-read" in out


def test_explain_names_denying_rule_and_exits_one(
    policy_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert explain(policy_file, "rm") == 1
    out = capsys.readouterr().out
    assert "DENY" in out and "no-rm" in out


def test_explain_shows_argument_violation(policy_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert explain(policy_file, "read_file", {"path": "/srv/docs/%2e%2e/x"}) == 1
    out = capsys.readouterr().out
    assert "path_prefix" in out and "policy.argument" in out


def test_explain_json_output_is_machine_readable(
    policy_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    explain(policy_file, "restart", None, "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["allowed"] is False and data["code"] == "policy.no_rule" and data["roles"] == ["reader"]


def test_explain_reads_claims_from_file(
    policy_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = tmp_path / "claims.json"
    claims.write_text('{"roles": ["ops"]}')
    argv = ["policy", "explain", "-p", str(policy_file), "--claims", str(claims), "--upstream", "fs"]
    assert main([*argv, "--tool", "restart"]) == 0


def test_explain_with_invalid_policy_is_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: x\n    roles: [r]\n    tool: [typo]\n")
    argv = ["policy", "explain", "-p", str(bad), "--claims", "{}", "--upstream", "fs", "--tool", "x"]
    assert main(argv) == 2
    assert "invalid policy" in capsys.readouterr().err


def test_explain_with_malformed_args_is_usage_error(policy_file: Path) -> None:
    argv = ["policy", "explain", "-p", str(policy_file), "--claims", "{}", "--upstream", "fs"]
    assert main([*argv, "--tool", "x", "--args", "{not json"]) == 2


def write_cases(tmp_path: Path, policy: Path, cases: list[dict[str, Any]]) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(yaml.safe_dump({"policy": policy.name, "cases": cases}))
    return path


CASE_OK = {
    "claims": {"roles": ["reader"]},
    "upstream": "fs",
    "name": "read_file",
    "arguments": {"path": "/srv/docs/a"},
    "expect": "allow",
    "rule": "docs-read",
}


def test_policy_test_exits_zero_when_all_cases_pass(policy_file: Path, tmp_path: Path) -> None:
    deny_case = {"claims": {}, "upstream": "fs", "tool": "rm", "expect": "deny", "rule": "no-rm"}
    assert main(["policy", "test", str(write_cases(tmp_path, policy_file, [CASE_OK, deny_case]))]) == 0


def test_policy_test_exits_one_and_reports_failing_case(
    policy_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = {**CASE_OK, "description": "reader may restart", "name": "restart", "expect": "allow"}
    wrong.pop("arguments")
    wrong.pop("rule")
    assert main(["policy", "test", str(write_cases(tmp_path, policy_file, [CASE_OK, wrong]))]) == 1
    out = capsys.readouterr().out
    assert "FAIL #2 reader may restart" in out and "expected allow, got deny" in out
    assert "1 passed, 1 failed" in out


def test_policy_test_fails_when_expected_rule_differs(policy_file: Path, tmp_path: Path) -> None:
    case = {**CASE_OK, "rule": "ops"}
    assert main(["policy", "test", str(write_cases(tmp_path, policy_file, [case]))]) == 1


def test_policy_test_with_malformed_case_is_usage_error(policy_file: Path, tmp_path: Path) -> None:
    case = {"claims": {}, "upstream": "fs", "name": "x", "expect": "maybe"}
    assert main(["policy", "test", str(write_cases(tmp_path, policy_file, [case]))]) == 2


def test_policy_test_accepts_inline_policy(tmp_path: Path) -> None:
    path = tmp_path / "inline.yaml"
    path.write_text(yaml.safe_dump({"policy": POLICY, "cases": [CASE_OK]}))
    assert main(["policy", "test", str(path)]) == 0


def test_shipped_example_cases_pass() -> None:
    examples = Path(__file__).resolve().parents[3] / "examples" / "policies"
    files = sorted(str(p) for p in examples.glob("*.cases.yaml"))
    assert files
    assert main(["policy", "test", *files]) == 0
