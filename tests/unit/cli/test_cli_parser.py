"""The lazy command table in `mcpwarden.cli` says the same as the command modules."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from mcpwarden import cli


def _subparser_helps(parser: argparse.ArgumentParser) -> dict[str, str]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {choice.dest: str(choice.help) for choice in action._choices_actions}


def test_the_command_table_has_the_help_line_each_module_registers() -> None:
    assert _subparser_helps(cli.build_parser(full=True)) == {
        name: help_text for name, (_, help_text) in cli.COMMANDS.items()
    }


def test_only_the_named_command_module_is_registered() -> None:
    parser = cli.build_parser(["detect", "--input", "x.jsonl"])
    args = parser.parse_args(["detect", "--input", "x.jsonl"])
    assert callable(args.handler)


def test_help_imports_no_command_module() -> None:
    code = (
        "import sys\n"
        "from mcpwarden.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('mcpwarden.commands.', 'pydantic', 'numpy'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_scan_tools_help_shows_the_detector_default_threshold() -> None:
    from mcpwarden.commands.scan_tools_cmd import DEFAULT_THRESHOLD
    from mcpwarden.detect.tools import DEFAULT_THRESHOLD as DETECTOR_DEFAULT

    assert DEFAULT_THRESHOLD == DETECTOR_DEFAULT


def test_an_unknown_command_lists_the_real_ones() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mcpwarden", "sevre"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2 and "invalid choice: 'sevre'" in out.stderr and "'serve'" in out.stderr


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and action path, e.g. ("pins", "approve")."""
    found: list[tuple[str, ...]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((*path, name))
                found += _commands(sub, (*path, name))
    return found


COMMAND_PATHS = _commands(cli.build_parser(full=True))


def test_every_command_and_action_is_listed() -> None:
    assert ("wrap",) in COMMAND_PATHS and ("pins", "approve") in COMMAND_PATHS and len(COMMAND_PATHS) > 30


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_every_command_and_action_help_has_a_description(path: tuple[str, ...]) -> None:
    """`mcpwarden X Y --help` says what X Y does in a sentence, not only its usage line."""
    parser = cli.build_parser(full=True)
    for name in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    assert parser.description and parser.description.strip().endswith((".", ")")), parser.description
