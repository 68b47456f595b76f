from __future__ import annotations

from pathlib import Path

import pytest

from mcpwarden.scan.formats import load_location, load_path, locate
from mcpwarden.scan.locations import discover
from mcpwarden.scan.model import ConfigError
from mcpwarden.scan.runner import ScanOptions, collect


def _servers(home: Path, platform: str, project: Path | None = None) -> dict[tuple[str, str], object]:
    options = ScanOptions(home=home, platform=platform, environ={}, project=project)  # type: ignore[arg-type]
    _, servers = collect(options)
    return {(s.client, s.name): s for s in servers}


def test_linux_home_finds_every_client(fixtures: Path) -> None:
    found = discover(fixtures / "homes/linux", "linux", {})
    assert {loc.client for loc in found} == {
        "claude-desktop",
        "claude-code",
        "cursor",
        "windsurf",
        "gemini",
        "codex",
        "vscode",
    }


def test_macos_uses_application_support(fixtures: Path) -> None:
    servers = _servers(fixtures / "homes/darwin", "darwin")
    assert set(servers) == {
        ("claude-desktop", "filesystem"),
        ("claude-desktop", "sqlite"),
        ("vscode", "slack"),
    }


def test_windows_uses_appdata_roaming_and_profile_folders(fixtures: Path) -> None:
    servers = _servers(fixtures / "homes/win32", "win32")
    assert set(servers) == {
        ("claude-desktop", "filesystem"),
        ("claude-desktop", "installer"),
        ("vscode", "azure"),
        ("cursor", "home-files"),
    }


def test_appdata_variable_overrides_the_default_location(tmp_path: Path, fixtures: Path) -> None:
    found = discover(tmp_path, "win32", {"APPDATA": str(fixtures / "homes/win32/AppData/Roaming")})
    assert {loc.client for loc in found} == {"claude-desktop", "vscode"}


def test_linux_layout_is_not_found_when_looking_for_macos(fixtures: Path) -> None:
    found = discover(fixtures / "homes/linux", "darwin", {})
    assert "claude-desktop" not in {loc.client for loc in found}


def test_project_configs_are_found(fixtures: Path) -> None:
    found = discover(fixtures / "homes/darwin", "darwin", {}, project=fixtures / "project")
    project = {(loc.client, loc.path.name) for loc in found if loc.scope == "project"}
    assert project == {
        ("claude-code", ".mcp.json"),
        ("cursor", "mcp.json"),
        ("vscode", "mcp.json"),
        ("gemini", "settings.json"),
    }


def test_claude_code_reads_user_and_per_project_servers(fixtures: Path) -> None:
    entries = load_path(fixtures / "homes/linux/.claude.json")
    scopes = {(e.name, e.scope) for e in entries}
    assert scopes == {
        ("memory", None),
        ("sentry", "/home/dev/projects/webapp"),
        ("postgres", "/home/dev/projects/webapp"),
    }


def test_claude_code_http_server_keeps_its_url_and_line(fixtures: Path) -> None:
    sentry = next(e for e in load_path(fixtures / "homes/linux/.claude.json") if e.name == "sentry")
    assert (sentry.transport, sentry.url, sentry.line) == ("http", "https://mcp.sentry.dev/mcp", 17)


def test_vscode_settings_with_comments_and_trailing_commas(fixtures: Path) -> None:
    entries = load_path(fixtures / "homes/linux/.config/Code/User/settings.json")
    assert [(e.name, e.command, e.line) for e in entries] == [
        ("playwright", "npx", 8),
        ("sudo-tools", "sudo", 13),
    ]


def test_vscode_workspace_file_reads_servers_and_transports(fixtures: Path) -> None:
    entries = {e.name: e for e in load_path(fixtures / "project/.vscode/mcp.json")}
    assert entries["github"].transport == "http"
    assert entries["github"].header_keys == ["Authorization"]
    assert entries["local-dev"].transport == "sse"


def test_windsurf_server_url_is_streamable_http(fixtures: Path) -> None:
    entries = {e.name: e for e in load_path(fixtures / "homes/linux/.codeium/windsurf/mcp_config.json")}
    assert (entries["remote-notes"].transport, entries["remote-notes"].url) == (
        "http",
        "http://notes.example.com/mcp",
    )


def test_gemini_http_url_and_sse_url_are_told_apart(fixtures: Path) -> None:
    entries = {e.name: e for e in load_path(fixtures / "homes/linux/.gemini/settings.json")}
    assert entries["streaming"].transport == "http"
    assert entries["events"].transport == "sse"


def test_codex_toml_servers_with_lines_and_env_tables(fixtures: Path) -> None:
    entries = {e.name: e for e in load_path(fixtures / "homes/linux/.codex/config.toml")}
    assert set(entries) == {"time", "shell-helper", "docs search", "docs-search-legacy"}
    assert entries["time"].line == 4
    assert entries["docs search"].line == 15
    assert entries["shell-helper"].env_keys == ["HELPER_MODE"]
    assert entries["docs-search-legacy"].transport == "http"


def test_public_view_lists_env_keys_but_never_values(fixtures: Path) -> None:
    entry = next(
        e
        for e in load_path(fixtures / "homes/linux/.config/Claude/claude_desktop_config.json")
        if e.name == "github"
    )
    public = entry.to_public_dict()
    assert public["env_keys"] == ["GITHUB_PERSONAL_ACCESS_TOKEN"]
    assert "ghp_" not in repr(public)
    assert "ghp_" not in repr(entry)


def test_explicit_file_with_unknown_name_is_read_by_content(tmp_path: Path) -> None:
    path = tmp_path / "team-servers.json"
    path.write_text('{"mcpServers": {"x": {"command": "node", "args": ["server.js"]}}}')
    loc = locate(path)
    assert loc.format == "mcpServers"
    assert [e.name for e in load_location(loc)] == ["x"]


def test_file_without_server_section_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "random.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(ConfigError, match="no MCP server section"):
        load_path(path)


def test_syntax_error_names_file_and_line(fixtures: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_path(fixtures / "invalid/broken.json")
    assert info.value.line == 4
    assert "broken.json:4" in str(info.value)


def test_server_that_is_not_an_object_names_its_line(fixtures: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_path(fixtures / "invalid/bad_entry.json")
    assert info.value.line == 4
    assert "'broken'" in str(info.value)


def test_invalid_toml_names_its_line(fixtures: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_path(fixtures / "invalid/bad_config.toml")
    assert info.value.line == 3


def test_toml_cut_off_at_the_end_points_at_the_last_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[mcp_servers.time]\ncommand = "uvx"\nargs = ["mcp-server-time"\n')
    with pytest.raises(ConfigError) as info:
        load_path(path)
    assert info.value.line == 3


def test_missing_explicit_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_path(tmp_path / ".mcp.json")


def test_server_without_command_or_url_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / ".mcp.json"
    path.write_text('{"mcpServers": {\n"x": {"args": []}}}')
    with pytest.raises(ConfigError, match="neither a command nor a url") as info:
        load_path(path)
    assert info.value.line == 2


def test_unknown_transport_type_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / ".mcp.json"
    path.write_text('{"mcpServers": {"x": {"type": "carrier-pigeon", "url": "https://x"}}}')
    with pytest.raises(ConfigError, match="unknown transport"):
        load_path(path)


def test_windows_style_claude_config_is_read(fixtures: Path) -> None:
    entries = {
        e.name: e
        for e in load_path(fixtures / "homes/win32/AppData/Roaming/Claude/claude_desktop_config.json")
    }
    assert entries["filesystem"].command == "cmd"
    assert entries["filesystem"].args[-1] == "C:\\Users\\dev\\Documents"


def test_disabled_servers_are_marked(tmp_path: Path) -> None:
    path = tmp_path / "mcp_config.json"
    path.write_text('{"mcpServers": {"a": {"command": "x", "disabled": true}, "b": {"command": "y"}}}')
    entries = {e.name: e for e in load_path(path)}
    assert (entries["a"].enabled, entries["b"].enabled) == (False, True)
    assert entries["a"].to_public_dict()["enabled"] is False


def test_codex_enabled_false_marks_a_server_disabled(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[mcp_servers.a]\ncommand = "x"\nenabled = false\n')
    assert load_path(path)[0].enabled is False
