from __future__ import annotations

from pathlib import Path

import yaml

from mcpwarden.scan.rules import RULES

DOC = Path(__file__).resolve().parents[3] / "docs" / "scanner.md"


def test_every_rule_is_documented() -> None:
    text = DOC.read_text("utf-8")
    assert [r for r in RULES if f"| {r} |" not in text] == []


def test_ci_example_is_valid_yaml_that_uploads_sarif() -> None:
    text = DOC.read_text("utf-8")
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    workflow = yaml.safe_load(block)
    steps = workflow["jobs"]["mcpwarden"]["steps"]
    scan = next(s for s in steps if "mcpwarden scan" in s.get("run", ""))
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert "--format sarif" in scan["run"] and upload["with"]["sarif_file"] in scan["run"]
    assert workflow["permissions"]["security-events"] == "write"
