"""Live inspection against real published MCP servers and a poisoned fixture server."""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from scan_live_kit import node_server, poisoned_server, time_server, write_config

from mcpwarden.cli import main
from mcpwarden.pinning import definition_hash
from mcpwarden.scan.runner import ScanOptions, ScanReport, run_scan
from mcpwarden.store import SQLiteStore

pytestmark = pytest.mark.integration


def _scan(config: Path, **kwargs: object) -> ScanReport:
    options = ScanOptions(
        paths=[config], environ={"PATH": "/usr/bin:/bin"}, inspect=True, timeout=60, **kwargs
    )  # type: ignore[arg-type]
    return run_scan(options)


@pytest.fixture(scope="module")
def real_report(tmp_path_factory: pytest.TempPathFactory, legacy_python: Path) -> ScanReport:
    tmp = tmp_path_factory.mktemp("live")
    (tmp / "docs").mkdir()
    config = write_config(
        tmp / ".mcp.json",
        {
            "memory": node_server("server-memory"),
            "filesystem": node_server("server-filesystem", str(tmp / "docs")),
            "time": time_server(legacy_python),
            "notebook": poisoned_server(),
        },
    )
    return _scan(config)


def _inspection(report: ScanReport, name: str):  # type: ignore[no-untyped-def]
    return next(i for i in report.inspections if i.entry.name == name)


def test_real_servers_are_listed(real_report: ScanReport) -> None:
    memory = _inspection(real_report, "memory")
    filesystem = _inspection(real_report, "filesystem")
    time = _inspection(real_report, "time")
    assert memory.error is None and filesystem.error is None and time.error is None
    assert {"create_entities", "read_graph", "search_nodes"} <= {t["name"] for t in memory.tools}
    assert {"read_text_file", "list_allowed_directories"} <= {t["name"] for t in filesystem.tools}
    assert {"get_current_time", "convert_time"} <= {t["name"] for t in time.tools}


def test_real_servers_raise_no_poisoning_findings(real_report: ScanReport) -> None:
    noisy = [i for i in real_report.issues if i.rule_id.startswith("MCPW-L") and i.server != "notebook"]
    assert noisy == []


def test_hidden_instruction_in_poisoned_tool_is_reported(real_report: ScanReport) -> None:
    notebook = [i for i in real_report.issues if i.rule_id == "MCPW-L001" and i.server == "notebook"]
    add_note = [i for i in notebook if "'add_note'" in i.message]
    assert add_note and max(i.severity for i in add_note) >= 3
    assert not [i for i in notebook if "'word_count'" in i.message]


def test_reference_to_another_servers_tool_is_reported(real_report: ScanReport) -> None:
    cross = [i for i in real_report.issues if i.rule_id == "MCPW-L002"]
    assert cross and all(i.server == "notebook" for i in cross)
    assert any("read_graph" in i.message for i in cross)


def test_prompts_are_listed(real_report: ScanReport) -> None:
    assert [p["name"] for p in _inspection(real_report, "notebook").prompts] == ["summarize"]


def test_poisoned_server_over_streamable_http(tmp_path: Path, poisoned_http: str) -> None:
    config = tmp_path / ".vscode" / "mcp.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"servers": {"notebook": {"type": "http", "url": poisoned_http}}}))
    report = _scan(config)
    assert report.inspections[0].error is None
    assert any(i.rule_id == "MCPW-L001" and "'add_note'" in i.message for i in report.issues)


def test_stdio_server_gets_a_scrubbed_environment(tmp_path: Path) -> None:
    server = poisoned_server("--echo-env") | {"env": {"ALLOWED_VAR": "1"}}
    config = write_config(tmp_path / ".mcp.json", {"notebook": server})
    environ = {"PATH": "/usr/bin:/bin", "CI_SECRET_CANARY": "do-not-leak", "AWS_SECRET_ACCESS_KEY": "x"}
    report = run_scan(ScanOptions(paths=[config], environ=environ, inspect=True, timeout=60, home=tmp_path))
    instructions = report.inspections[0].instructions or ""
    names = set(instructions.removeprefix("env:").split(","))
    assert {"ALLOWED_VAR", "PATH", "HOME"} <= names
    assert "CI_SECRET_CANARY" not in names and "AWS_SECRET_ACCESS_KEY" not in names


def test_server_that_does_not_start_is_reported_not_fatal(tmp_path: Path) -> None:
    config = write_config(tmp_path / ".mcp.json", {"ghost": {"command": str(tmp_path / "no-such-binary")}})
    report = _scan(config)
    (issue,) = [i for i in report.issues if i.rule_id == "MCPW-L006"]
    assert issue.server == "ghost"


def test_hung_server_is_cut_off_by_the_timeout(tmp_path: Path) -> None:
    hang = {"command": sys.executable, "args": ["-c", "import time; time.sleep(120)"]}
    config = write_config(tmp_path / ".mcp.json", {"hang": hang})
    report = run_scan(ScanOptions(paths=[config], environ={}, inspect=True, timeout=2))
    assert "within 2s" in (report.inspections[0].error or "")


def test_pin_store_drift_is_reported(tmp_path: Path) -> None:
    config = write_config(tmp_path / ".mcp.json", {"memory": node_server("server-memory")})
    live = _scan(config).inspections[0]
    tools = {t["name"]: t for t in live.tools}
    store = SQLiteStore(tmp_path / "pins.db")
    for name in ("create_entities", "read_graph"):
        store.new_pin(
            "memory",
            "tool",
            name,
            tools[name],
            definition_hash(tools[name]),
            status="approved",
            approved_by="t",
        )
    earlier = dict(tools["search_nodes"], description="Search the graph (old wording).")
    store.new_pin(
        "memory",
        "tool",
        "search_nodes",
        earlier,
        definition_hash(earlier),
        status="approved",
        approved_by="t",
    )
    gone = {"name": "export_graph", "description": "Export.", "inputSchema": {"type": "object"}}
    store.new_pin(
        "memory", "tool", "export_graph", gone, definition_hash(gone), status="approved", approved_by="t"
    )
    store.close()

    report = _scan(config, pins=tmp_path / "pins.db")
    by_rule: dict[str, set[str]] = {}
    for issue in report.issues:
        by_rule.setdefault(issue.rule_id, set()).add(str(issue.details.get("name")))
    assert by_rule["MCPW-L004"] == {"search_nodes"}
    assert by_rule["MCPW-L005"] == {"export_graph"}
    assert "read_graph" not in by_rule["MCPW-L003"] and "open_nodes" in by_rule["MCPW-L003"]


def test_cli_inspect_writes_valid_sarif(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / ".mcp.json", {"notebook": poisoned_server()})
    code = main(["scan", str(config), "--inspect", "--format", "sarif", "--fail-on", "high"])
    log = json.loads(capsys.readouterr().out)
    schema = json.loads(
        resources.files("mcpwarden.data").joinpath("sarif-schema-2.1.0.json").read_text("utf-8")
    )
    jsonschema.Draft4Validator(schema).validate(log)
    assert code == 1
    assert any(r["ruleId"] == "MCPW-L001" for r in log["runs"][0]["results"])


@pytest.mark.parametrize("tty", [True, False])
def test_progress_bar_is_drawn_only_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tty: bool
) -> None:
    config = write_config(tmp_path / ".mcp.json", {"notebook": poisoned_server()})
    monkeypatch.setattr(sys.stderr, "isatty", lambda: tty)
    main(["scan", str(config), "--inspect", "--format", "json"])
    err = capsys.readouterr().err
    assert ("inspecting" in err) is tty


def test_disabled_servers_are_not_started(tmp_path: Path) -> None:
    server = poisoned_server() | {"disabled": True}
    config = write_config(tmp_path / "mcp_config.json", {"notebook": server})
    report = _scan(config)
    assert report.inspections == []


def test_failure_message_masks_secrets_the_server_printed(tmp_path: Path) -> None:
    token = "ghp_" + "R8aK2mWq9ZxT4vLp7Nc3Jd6Hs1Fg5Bb0Ye2U"
    crash = {
        "command": sys.executable,
        "args": ["-c", f"import sys; sys.stderr.write('token={token}'); sys.exit(3)"],
    }
    config = write_config(tmp_path / ".mcp.json", {"crash": crash})
    (issue,) = [i for i in _scan(config).issues if i.rule_id == "MCPW-L006"]
    assert "token=" in issue.message and token not in issue.message
