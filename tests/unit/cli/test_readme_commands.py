"""Every `mcpwarden` command line README.md shows parses with the real CLI parser.

The tour's shell blocks are run verbatim by tests/integration/cli/test_readme_tour.py; the
README also shows commands that cannot run in a test (installing the tool, fronting a remote
server, approving a pin that only a running gateway has changed) or that sit in prose and JSON
snippets. Parsing them catches the drift that matters there: a renamed command or option.
"""

from __future__ import annotations

import json
import re
import shlex

import pytest

from gwtest.procs import ROOT
from mcpwarden import cli

README = (ROOT / "README.md").read_text(encoding="utf-8")
_LEAD = re.compile(r"^(?:\.venv/bin/)?mcpwarden(?:\s|$)")


def _code_lines() -> list[str]:
    """Lines of code blocks and inline code spans that start a `mcpwarden` command."""
    lines: list[str] = []
    for lang, block in re.findall(r"```(\w*)\n(.*?)```", README, flags=re.S):
        if lang == "json":
            for server in re.findall(r'"command":\s*"mcpwarden",\s*"args":\s*(\[.*?\])', block, flags=re.S):
                lines.append(shlex.join(["mcpwarden", *json.loads(server)]))
            continue
        for line in block.splitlines():
            command = line.split("|")[-1].strip()
            if _LEAD.match(command):
                lines.append(re.sub(r"\s+#.*$", "", command))
    prose = re.sub(r"```.*?```", "", README, flags=re.S)
    lines += [span for span in re.findall(r"`([^`\n]+)`", prose) if _LEAD.match(span)]
    return lines


def test_the_readme_shows_the_commands_this_test_is_meant_to_parse() -> None:
    shown = {shlex.split(line)[1] for line in _code_lines() if len(shlex.split(line)) > 1}
    assert {"serve", "wrap", "scan", "scan-tools", "detect", "audit", "pins", "config", "init"} <= shown


@pytest.mark.parametrize("line", _code_lines())
def test_a_readme_command_parses(line: str) -> None:
    argv = shlex.split(line)[1:]
    parser = cli.build_parser(argv)
    try:
        parser.parse_args(argv)
    except SystemExit as exc:  # --help and --version exit 0 after printing
        assert exc.code == 0, line
