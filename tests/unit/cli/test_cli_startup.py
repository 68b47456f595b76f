"""`mcpwarden X --help` and the light commands import none of the heavy libraries.

Start-up time is what a user of `--help`, an MCP client starting `wrap`, or a cron job running
`audit verify` waits for; the libraries below cost tens to hundreds of milliseconds each to
import. Timing a subprocess would make a flaky test on a loaded machine, so the tests check
the cause instead: which modules a fresh interpreter holds after running the command
(bench/cli_startup.py measures the time itself).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mcpwarden import cli

# Libraries no `--help` needs: the detectors' numeric stack, HTTP clients and servers, config
# validation, YAML, crypto, terminal rendering, the MCP SDK and the RE2 bindings, and the
# standard library's asyncio with the ssl module it pulls in (about half of what reading an
# audit file cost to start before the audit writer imported it lazily).
HEAVY = (
    "numpy", "onnxruntime", "sklearn", "httpx", "pydantic", "yaml", "cryptography", "rich",
    "re2", "mcp", "starlette", "uvicorn", "joserfc", "anyio", "asyncio", "ssl",
)  # fmt: skip
# What a light command may load on top of that: the table renderer, nothing else.
LIGHT_MAY_USE = frozenset({"rich"})

_PROBE = """
import json, sys
from mcpwarden.cli import main
for argv in json.loads(sys.argv[1]):
    try:
        main(argv)
    except SystemExit:
        pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
"""


def _top_level_modules_after(*argvs: list[str], cwd: Path | None = None) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(list(argvs))],
        capture_output=True, text=True, timeout=120, cwd=cwd,
    )  # fmt: skip
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def _actions(command: str) -> list[str]:
    parser = cli.build_parser(full=True)
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub = commands.choices[command]
    return [
        verb
        for action in sub._actions
        if isinstance(action, argparse._SubParsersAction)
        for verb in action.choices
    ]


def test_top_level_help_imports_no_heavy_library() -> None:
    assert _top_level_modules_after(["--help"], ["--version"]) & set(HEAVY) == set()


@pytest.mark.parametrize("command", list(cli.COMMANDS))
def test_command_help_and_each_action_help_import_no_heavy_library(command: str) -> None:
    argvs = [[command, "--help"], *([command, verb, "--help"] for verb in _actions(command))]
    assert _top_level_modules_after(*argvs) & set(HEAVY) == set()


def test_reading_an_audit_file_imports_no_heavy_library(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    audit.write_bytes(b"")
    loaded = _top_level_modules_after(["audit", "verify", str(audit)], ["audit", "tail", str(audit)])
    assert loaded & set(HEAVY) <= LIGHT_MAY_USE


def test_listing_pins_sessions_and_disabled_entries_imports_no_heavy_library(tmp_path: Path) -> None:
    store = str(tmp_path / "store.sqlite3")
    loaded = _top_level_modules_after(
        ["pins", "list", "--store", store],
        ["sessions", "list", "--store", store],
        ["admin", "list", "--store", store],
    )
    assert loaded & set(HEAVY) <= LIGHT_MAY_USE
