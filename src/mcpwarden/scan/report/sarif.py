"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Paths inside the base directory (the repository checkout in CI) are written relative to
a `SRCROOT` base id, which is what lets code scanning place alerts on the file; paths
outside it, such as a developer's `~/.cursor/mcp.json`, are absolute `file:` URIs.
GitHub reads `properties.security-severity` on rules to rank alerts.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from mcpwarden import __version__
from mcpwarden.detect.findings import Severity
from mcpwarden.scan.model import Issue
from mcpwarden.scan.rules import RULES, Rule
from mcpwarden.scan.runner import ScanReport

SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def _rule_object(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.short},
        "fullDescription": {"text": rule.full},
        "help": {
            "text": f"{rule.full}\n\nFix: {rule.help}",
            "markdown": f"{rule.full}\n\n**Fix:** {rule.help}",
        },
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "security-severity": _SECURITY_SEVERITY[rule.severity],
            "tags": list(rule.tags),
            "precision": "high" if rule.id.startswith("MCPW-S") else "medium",
        },
    }


def _artifact(file: Path, base: Path) -> dict[str, Any]:
    absolute = file.absolute()
    try:
        relative = absolute.relative_to(base.absolute())
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": relative.as_posix(), "uriBaseId": "SRCROOT"}


def _fingerprint(issue: Issue) -> str:
    # Stable across runs and line moves: the rule, the file, the server and the message.
    key = "\x1f".join((issue.rule_id, str(issue.file), issue.server or "", issue.message))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _result(issue: Issue, index: dict[str, int], base: Path) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(issue.file, base)}
    if issue.line is not None and issue.line >= 1:
        physical["region"] = {"startLine": issue.line}
    properties: dict[str, Any] = {"severity": str(issue.severity)}
    if issue.server is not None:
        properties["server"] = issue.server
    if issue.client is not None:
        properties["client"] = issue.client
    result: dict[str, Any] = {
        "ruleId": issue.rule_id,
        "ruleIndex": index[issue.rule_id],
        "level": _LEVEL[issue.severity],
        "message": {"text": issue.message},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {"mcpwarden/v1": _fingerprint(issue)},
        "properties": properties,
    }
    return result


def sarif_log(report: ScanReport, base: Path | None = None) -> dict[str, Any]:
    root = (base or Path.cwd()).absolute()
    rules = list(RULES.values())
    index = {r.id: i for i, r in enumerate(rules)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "mcpwarden",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule_object(r) for r in rules],
            }
        },
        "originalUriBaseIds": {"SRCROOT": {"uri": root.as_uri().rstrip("/") + "/"}},
        "results": [_result(i, index, root) for i in report.issues],
    }
    return {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(report: ScanReport, base: Path | None = None) -> str:
    return json.dumps(sarif_log(report, base), indent=2, ensure_ascii=False) + "\n"
