"""`mcpwarden init` on a home folder with real client config files: a commented gateway config
that `config check` accepts, the wrap changes shown as a diff, applied only with --apply, and
the rewritten client entry actually runs the server through the wrapper."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gwtest.procs import FIXTURES, PYTHON, free_port

pytestmark = pytest.mark.integration

SERVER = [PYTHON, str(FIXTURES / "minimal_stdio_server.py")]


def home_with_clients(tmp_path: Path) -> tuple[Path, Path, Path]:
    home = tmp_path / "home"
    claude = home / ".config" / "Claude" / "claude_desktop_config.json"
    cursor = home / ".cursor" / "mcp.json"
    claude.parent.mkdir(parents=True)
    cursor.parent.mkdir(parents=True)
    claude.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "notes": {"command": SERVER[0], "args": SERVER[1:], "env": {"API_KEY": "s3cret-value"}},
                    "remote": {
                        "url": "https://mcp.example.com/mcp",
                        "headers": {"Authorization": "Bearer t0ken"},
                    },
                }
            },
            indent=2,
        )
    )
    cursor.write_text(
        json.dumps({"mcpServers": {"notes": {"command": SERVER[0], "args": SERVER[1:]}}}, indent=2)
    )
    return home, claude, cursor


def init(tmp_path: Path, home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    extra = extra if "--project" in extra else ("--no-project", *extra)
    env = {
        **os.environ,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    return subprocess.run(
        [PYTHON, "-m", "mcpwarden", "init", "--home", str(home), "--platform", "linux",
         "--output", str(tmp_path / "gateway.yaml"), *extra],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def test_init_writes_a_commented_config_and_only_shows_the_wrap_diff(tmp_path: Path) -> None:
    home, claude, cursor = home_with_clients(tmp_path)
    before = (claude.read_text(), cursor.read_text())
    done = init(tmp_path, home)
    assert done.returncode == 0, done.stderr
    assert f"--- {claude}" in done.stdout and f"--- {cursor}" in done.stdout
    assert '+      "command": "mcpwarden",' in done.stdout
    assert "run again with --apply" in done.stdout
    assert (claude.read_text(), cursor.read_text()) == before
    config = (tmp_path / "gateway.yaml").read_text()
    assert config.startswith("# mcpwarden gateway config")
    assert "s3cret-value" not in config and "t0ken" not in config
    assert "# the client set API_KEY for it" in config
    # The config runs as written; only the port is moved off 8765, which may be busy here.
    (tmp_path / "gateway.yaml").write_text(re.sub(r"port: 8765", f"port: {free_port()}", config))
    check = subprocess.run(
        [PYTHON, "-m", "mcpwarden", "config", "check", str(tmp_path / "gateway.yaml")],
        capture_output=True, text=True, timeout=60, env={**os.environ, "API_KEY": "x"},
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip().endswith("ok (2 upstreams)")


def test_init_apply_wraps_the_stdio_servers_keeping_backups(tmp_path: Path) -> None:
    home, claude, _cursor = home_with_clients(tmp_path)
    original = claude.read_text()
    done = init(tmp_path, home, "--apply")
    assert done.returncode == 0, done.stderr
    assert claude.with_name(claude.name + ".mcpwarden-backup").read_text() == original
    entry = json.loads(claude.read_text())["mcpServers"]["notes"]
    assert entry["command"] == "mcpwarden"
    assert entry["args"] == ["wrap", "--name", "notes", "--", *SERVER]
    assert entry["env"] == {"API_KEY": "s3cret-value"}  # the client keeps its own settings
    assert "url" in json.loads(claude.read_text())["mcpServers"]["remote"]
    # What the client will now run answers initialize through the wrapper.
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
    init_line = b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",'
    init_line += b'"capabilities":{},"clientInfo":{"name":"c","version":"1"}}}\n'
    ran = subprocess.run(
        [entry["command"], *entry["args"]], input=init_line, capture_output=True, timeout=60, env=env
    )
    assert json.loads(ran.stdout.splitlines()[0])["result"]["serverInfo"]["name"] == "minimal"
    again = init(tmp_path, home, "--force")
    assert "no client config needs a change" in again.stdout


def test_init_without_servers_says_where_to_look(tmp_path: Path) -> None:
    empty = tmp_path / "empty-home"
    empty.mkdir()
    done = init(tmp_path, empty)
    assert done.returncode == 2
    assert "no MCP servers found" in done.stderr
