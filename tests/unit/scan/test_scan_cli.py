from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcpwarden.cli import main


def _config(tmp_path: Path, servers: dict[str, object]) -> Path:
    path = tmp_path / ".mcp.json"
    path.write_text(json.dumps({"mcpServers": servers}, indent=2))
    return path


CLEAN = {"memory": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory@2026.8.31"]}}
MEDIUM = {"memory": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"]}}


def test_clean_config_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(_config(tmp_path, CLEAN)), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_findings_exit_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(_config(tmp_path, MEDIUM)), "--format", "json"]) == 1


def test_fail_on_above_the_worst_finding_exits_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", str(_config(tmp_path, MEDIUM)), "--fail-on", "high"]) == 0
    assert main(["scan", str(_config(tmp_path, MEDIUM)), "--fail-on", "medium"]) == 1


def test_invalid_config_exits_two_naming_file_and_line(
    fixtures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", str(fixtures / "invalid/broken.json")]) == 2
    assert "broken.json:4" in capsys.readouterr().err


def test_missing_config_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(tmp_path / "nope.json")]) == 2
    assert "nope.json" in capsys.readouterr().err


def test_bad_osv_database_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(_config(tmp_path, CLEAN)), "--osv-db", str(tmp_path / "none")]) == 2


def test_pins_without_inspect_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "pins.db"
    store.write_bytes(b"")
    assert main(["scan", str(_config(tmp_path, CLEAN)), "--pins", str(store)]) == 2


def test_output_and_sbom_files_are_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, sbom = tmp_path / "scan.sarif", tmp_path / "bom.json"
    code = main(
        ["scan", str(_config(tmp_path, MEDIUM)), "--format", "sarif", "-o", str(out), "--sbom", str(sbom)]
    )
    assert code == 1
    assert json.loads(out.read_text())["version"] == "2.1.0"
    assert json.loads(sbom.read_text())["bomFormat"] == "CycloneDX"
    assert capsys.readouterr().out == ""


def test_table_to_file_has_no_terminal_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.txt"
    main(["scan", str(_config(tmp_path, MEDIUM)), "-o", str(out)])
    text = out.read_text()
    assert "MCPW-S001" in text and "\x1b[" not in text


def test_discovery_in_a_fixture_home(fixtures: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = fixtures / "homes/darwin"
    code = main(["scan", "--home", str(home), "--platform", "darwin", "--no-project", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {c["client"] for c in data["configs"]} == {"claude-desktop", "vscode"}


def test_empty_home_is_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--home", str(tmp_path), "--platform", "linux", "--no-project"]) == 0
    assert "No MCP client configuration found" in capsys.readouterr().out


def test_vulnerable_version_from_osv_database(fixtures: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = fixtures / "homes/linux/.codex/config.toml"
    main(["scan", str(config), "--osv-db", str(fixtures / "osv"), "--format", "json"])
    rules = {f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert "MCPW-S013" in rules
