"""`mcpwarden init --apply` rewrites every client config format the scanner reads (VS Code's
JSON with comments and trailing commas, Codex's TOML, Claude Code's `~/.claude.json`) by
changing only the wrapped servers' `command` and `args`: comments, key order, trailing commas
and indentation stay as the user wrote them, a backup is kept, and the client's new command
really runs the server through the wrapper."""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gwtest.procs import FIXTURES, PYTHON

pytestmark = pytest.mark.integration

SERVER = [PYTHON, str(FIXTURES / "minimal_stdio_server.py")]
INITIALIZE = (
    b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",'
    b'"capabilities":{},"clientInfo":{"name":"c","version":"1"}}}\n'
)


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }


def init(tmp_path: Path, home: Path, project: Path | None, *extra: str) -> subprocess.CompletedProcess[str]:
    where = ["--project", str(project)] if project else ["--no-project"]
    return subprocess.run(
        [PYTHON, "-m", "mcpwarden", "init", "--home", str(home), "--platform", "linux", *where,
         "--output", str(tmp_path / "gateway.yaml"), "--force", *extra],
        capture_output=True, text=True, timeout=120, env={**_env(tmp_path), "CODEX_HOME": ""},
    )  # fmt: skip


def changed(before: str, after: str) -> tuple[list[str], list[str]]:
    """(lines removed, lines added) between two versions of a file."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


def answers_initialize_through_the_wrapper(tmp_path: Path, command: str, args: list[str]) -> bool:
    ran = subprocess.run(
        [command, *args], input=INITIALIZE, capture_output=True, timeout=60, env=_env(tmp_path)
    )
    return bool(json.loads(ran.stdout.splitlines()[0])["result"]["serverInfo"]["name"] == "minimal")


VSCODE_MCP = """{
  // Servers for this workspace.
  "servers": {
    "notes": {
      "type": "stdio",
      "command": %s, // the interpreter
      "args": [
        %s, /* the server */
      ],
    },
    "remote": { "type": "http", "url": "https://mcp.example.com/mcp" },
  },
  "inputs": [],
}
"""


def test_apply_rewrites_vscode_jsonc_keeping_comments_and_trailing_commas(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    config = project / ".vscode" / "mcp.json"
    config.parent.mkdir(parents=True)
    original = VSCODE_MCP % (json.dumps(SERVER[0]), json.dumps(SERVER[1]))
    config.write_text(original)

    done = init(tmp_path, home, project, "--apply")

    assert done.returncode == 0, done.stderr
    after = config.read_text()
    removed, added = changed(original, after)
    assert removed == [f'      "command": {json.dumps(SERVER[0])}, // the interpreter']
    assert added == [
        '      "command": "mcpwarden", // the interpreter',
        '        "wrap",',
        '        "--name",',
        '        "notes",',
        '        "--",',
        f"        {json.dumps(SERVER[0])},",
    ]
    assert config.with_name("mcp.json.mcpwarden-backup").read_text() == original
    assert answers_initialize_through_the_wrapper(
        tmp_path, "mcpwarden", ["wrap", "--name", "notes", "--", *SERVER]
    )


def test_apply_rewrites_vscode_user_settings_leaving_other_settings_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = home / ".config" / "Code" / "User" / "settings.json"
    settings.parent.mkdir(parents=True)
    original = (
        "{\n"
        '  "editor.fontSize": 14, // big\n'
        '  "mcp": {\n'
        '    "servers": {\n'
        f'      "notes": {{ "command": {json.dumps(SERVER[0])}, "args": [{json.dumps(SERVER[1])}] }},\n'
        "    },\n"
        "  },\n"
        "}\n"
    )
    settings.write_text(original)

    done = init(tmp_path, home, None, "--apply")

    assert done.returncode == 0, done.stderr
    removed, added = changed(original, settings.read_text())
    assert len(removed) == 1 and '"notes"' in removed[0]
    assert added == [
        f'      "notes": {{ "command": "mcpwarden", "args": ["wrap", "--name", "notes", "--", '
        f"{json.dumps(SERVER[0])}, {json.dumps(SERVER[1])}] }},"
    ]


CODEX = """# Codex settings
model = "o3"

[mcp_servers.notes]
command = %s  # the interpreter
args = [
  %s,  # the server
]
startup_timeout_sec = 20

[mcp_servers.notes.env]
NOTES_DIR = "/tmp/notes"
"""


def test_apply_rewrites_codex_toml_keeping_comments_and_tables(tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = home / ".codex" / "config.toml"
    config.parent.mkdir(parents=True)
    original = CODEX % (json.dumps(SERVER[0]), json.dumps(SERVER[1]))
    config.write_text(original)

    shown = init(tmp_path, home, None)
    assert shown.returncode == 0, shown.stderr
    assert f"--- {config}" in shown.stdout and '+command = "mcpwarden"  # the interpreter' in shown.stdout
    assert config.read_text() == original

    done = init(tmp_path, home, None, "--apply")

    assert done.returncode == 0, done.stderr
    after = config.read_text()
    removed, added = changed(original, after)
    assert removed == [f"command = {json.dumps(SERVER[0])}  # the interpreter"]
    assert added[0] == 'command = "mcpwarden"  # the interpreter'
    server = tomllib.loads(after)["mcp_servers"]["notes"]
    assert server["args"] == ["wrap", "--name", "notes", "--", *SERVER]
    assert server["env"] == {"NOTES_DIR": "/tmp/notes"} and server["startup_timeout_sec"] == 20
    assert config.with_name("config.toml.mcpwarden-backup").read_text() == original
    assert answers_initialize_through_the_wrapper(tmp_path, server["command"], server["args"])


def test_apply_rewrites_claude_code_user_and_project_servers(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    config = home / ".claude.json"
    original = json.dumps(
        {
            "numStartups": 12,
            "mcpServers": {"notes": {"type": "stdio", "command": SERVER[0], "args": SERVER[1:], "env": {}}},
            "projects": {
                "/home/me/work": {
                    "allowedTools": [],
                    "mcpServers": {"local": {"type": "stdio", "command": SERVER[0], "args": SERVER[1:]}},
                }
            },
        },
        indent=2,
    )
    config.write_text(original)
    os.chmod(config, 0o600)

    done = init(tmp_path, home, None, "--apply")

    assert done.returncode == 0, done.stderr
    data = json.loads(config.read_text())
    assert data["mcpServers"]["notes"]["args"] == ["wrap", "--name", "notes", "--", *SERVER]
    project = data["projects"]["/home/me/work"]["mcpServers"]["local"]
    assert project["command"] == "mcpwarden"
    assert project["args"] == ["wrap", "--name", "local", "--", *SERVER]
    assert data["numStartups"] == 12 and data["projects"]["/home/me/work"]["allowedTools"] == []
    assert config.stat().st_mode & 0o777 == 0o600  # the file holds tokens: still private
    removed, _added = changed(original, config.read_text())
    assert [line.strip() for line in removed] == [f'"command": {json.dumps(SERVER[0])},'] * 2


def test_a_client_config_init_cannot_read_is_named_and_left_alone(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    config = project / ".vscode" / "mcp.json"
    config.parent.mkdir(parents=True)
    # `args` is not a list: the scanner rejects the file, init must not touch it.
    original = '{"servers": {"notes": {"command": "node", "args": "server.js"}}}\n'
    config.write_text(original)

    done = init(tmp_path, home, project, "--apply")

    assert str(config) in done.stderr
    assert config.read_text() == original
    assert not config.with_name("mcp.json.mcpwarden-backup").exists()
