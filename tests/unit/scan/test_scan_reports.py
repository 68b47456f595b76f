from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from rich.console import Console

from mcpwarden.scan.osv import OsvDatabase
from mcpwarden.scan.report import render_json, render_sarif, render_sbom, render_table, sarif_log
from mcpwarden.scan.rules import RULES
from mcpwarden.scan.runner import ScanOptions, ScanReport, run_scan

GH_TOKEN_PREFIX = "ghp_R8aK2m"


@pytest.fixture(scope="module")
def report() -> ScanReport:
    fixtures = Path(__file__).resolve().parents[2] / "fixtures" / "scan"
    options = ScanOptions(
        home=fixtures / "homes/linux",
        platform="linux",
        environ={},
        project=fixtures / "project",
        osv=OsvDatabase.load(fixtures / "osv"),
    )
    return run_scan(options)


@pytest.fixture(scope="module")
def sarif_schema() -> dict[str, Any]:
    text = resources.files("mcpwarden.data").joinpath("sarif-schema-2.1.0.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def test_sarif_log_is_valid_against_the_official_schema(
    report: ScanReport, sarif_schema: dict[str, Any]
) -> None:
    log = json.loads(render_sarif(report))
    jsonschema.Draft4Validator(sarif_schema).validate(log)
    assert len(log["runs"][0]["results"]) == len(report.issues) > 10


def test_schema_check_rejects_a_broken_log(report: ScanReport, sarif_schema: dict[str, Any]) -> None:
    log = sarif_log(report)
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(sarif_schema).validate(log)


def test_sarif_rules_carry_help_and_security_severity(report: ScanReport) -> None:
    rules = sarif_log(report)["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    for r in rules:
        assert r["help"]["text"] and r["fullDescription"]["text"] and r["shortDescription"]["text"]
        assert r["defaultConfiguration"]["level"] in ("error", "warning", "note")
        assert 0.0 <= float(r["properties"]["security-severity"]) <= 10.0


def test_sarif_results_point_at_file_and_line(report: ScanReport) -> None:
    log = sarif_log(report, base=Path(__file__).resolve().parents[2])
    results = log["runs"][0]["results"]
    github = next(r for r in results if r["ruleId"] == "MCPW-S005" and "GITHUB" in r["message"]["text"])
    location = github["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {
        "uri": "fixtures/scan/homes/linux/.config/Claude/claude_desktop_config.json",
        "uriBaseId": "SRCROOT",
    }
    assert location["region"] == {"startLine": 15}
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert rules[github["ruleIndex"]]["id"] == "MCPW-S005"


def test_sarif_paths_outside_the_base_are_absolute_file_uris(report: ScanReport, tmp_path: Path) -> None:
    results = sarif_log(report, base=tmp_path)["runs"][0]["results"]
    assert all(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("file:///")
        for r in results
    )


def test_sbom_is_valid_cyclonedx(report: ScanReport) -> None:
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(render_sbom(report))
    assert errors is None


def test_sbom_lists_packages_with_purls_and_remote_servers_as_services(report: ScanReport) -> None:
    bom = json.loads(render_sbom(report))
    purls = {c.get("purl") for c in bom["components"]}
    assert "pkg:npm/%40modelcontextprotocol/server-filesystem@2026.8.31" in purls
    assert "pkg:pypi/mcp-server-fetch@2026.10.24" in purls
    assert "pkg:pypi/mcp-server-git" in purls
    assert any(p and p.startswith("pkg:docker/example/db-mcp@sha256:") for p in purls)
    assert "pkg:docker/mcp/puppeteer" in purls
    services = {s["name"]: s for s in bom["services"]}
    assert services["sentry"]["endpoints"] == ["https://mcp.sentry.dev/mcp"]


def test_sbom_components_record_where_they_are_configured(report: ScanReport) -> None:
    bom = json.loads(render_sbom(report))
    fetch = next(c for c in bom["components"] if c.get("purl") == "pkg:pypi/mcp-server-fetch@2026.10.24")
    props = {p["name"]: p["value"] for p in fetch["properties"]}
    assert props["mcpwarden:client"] == "windsurf" and props["mcpwarden:server"] == "fetch"


def test_no_report_contains_a_secret_value(report: ScanReport) -> None:
    console = Console(record=True, width=300)
    render_table(report, console)
    outputs = [render_json(report), render_sarif(report), render_sbom(report), console.export_text()]
    for text in outputs:
        assert GH_TOKEN_PREFIX not in text
        assert "S3cr3tPassw0rd" not in text


def test_json_report_shape(report: ScanReport) -> None:
    data = json.loads(render_json(report))
    assert set(data) >= {"tool", "configs", "servers", "findings", "summary"}
    assert sum(data["summary"].values()) == len(data["findings"])
    first = data["findings"][0]
    assert set(first) >= {"rule", "severity", "message", "file", "line", "server", "client"}


def test_findings_are_ordered_worst_first(report: ScanReport) -> None:
    severities = [int(i.severity) for i in report.issues]
    assert severities == sorted(severities, reverse=True)


def test_table_lists_servers_and_findings(report: ScanReport) -> None:
    console = Console(record=True, width=300)
    render_table(report, console)
    text = console.export_text()
    assert "shell-helper" in text and "MCPW-S011" in text and "Summary:" in text


def test_markup_in_config_text_is_printed_literally(tmp_path: Path) -> None:
    config = tmp_path / ".mcp.json"
    config.write_text(
        '{"mcpServers": {"[bold red]x[/]": {"command": "npx", "args": ["[link=https://e]y[/link]"]}}}'
    )
    console = Console(record=True, width=300)
    render_table(run_scan(ScanOptions(paths=[config], environ={})), console)
    text = console.export_text()
    assert "[bold red]x[/]" in text and "[link=https://e]y[/link]" in text
