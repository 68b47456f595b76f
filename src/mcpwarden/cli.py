"""The single `mcpwarden` entry point.

Each subcommand lives in its own module under `mcpwarden.commands` and exposes
`register(subparsers)`; this file only wires them together, so features can be
added without touching each other's code.

Start-up time matters (the wrapper is started by MCP clients, the scanner by CI, a human
types `--help`): only the module of the command being run is imported. `--help` and the
list of commands come from the table below, which a unit test keeps equal to what each
module registers.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from mcpwarden import __version__

# Command name -> (module under mcpwarden.commands, one-line help), in --help order.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "run the gateway (Streamable HTTP) in front of configured upstreams"),
    "wrap": ("wrap", "run a stdio MCP server behind the guard pipeline (stdio in, stdio out)"),
    "config": ("config_cmd", "print the config JSON Schema or check a config file"),
    "audit": ("audit_cmd", "verify and read hash-chained audit files"),
    "policy": ("policy_cmd", "explain, test and audit least-privilege policies"),
    "detect": ("detect_cmd", "score JSONL text rows for prompt injection"),
    "scan-tools": ("scan_tools_cmd", "score JSONL rows of MCP tool definitions for tool poisoning"),
    "scan": ("scan_cmd", "audit MCP client configs and servers (table, JSON, SARIF, CycloneDX)"),
    "pins": ("pins_cmd", "list, diff, approve, reject, export or import pinned definitions"),
    "sessions": ("sessions_cmd", "list or revoke the sessions of a running gateway"),
    "oauth": ("oauth_cmd", "list or revoke OAuth clients, consents and per-user third-party tokens"),
    "admin": (
        "admin_cmd",
        "kill switch (disable/enable servers, tools, principals, sessions) and live sessions",
    ),
    "init": (
        "init_cmd",
        "write a gateway config for your clients' MCP servers; show the wrap changes",
    ),
}
# Kept for code that lists the modules.
COMMAND_MODULES: tuple[str, ...] = tuple(module for module, _ in COMMANDS.values())

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with the user's input: reported on stderr with exit code 2."""


def _register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], module_name: str) -> bool:
    try:
        module = importlib.import_module(f"mcpwarden.commands.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"mcpwarden.commands.{module_name}":
            return False  # feature not present in this build
        raise
    module.register(subparsers)
    return True


def build_parser(argv: Sequence[str] | None = None, *, full: bool = False) -> argparse.ArgumentParser:
    """The parser for `argv`: the named command's module is imported and registers itself;
    every other command is a placeholder carrying its help line (enough for `--help` and
    for argparse's "invalid choice" message). `full=True` imports every command."""
    parser = argparse.ArgumentParser(
        prog="mcpwarden",
        description="Security gateway, stdio wrapper and scanner for the Model Context Protocol.",
    )
    parser.add_argument("--version", action="version", version=f"mcpwarden {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = _command_of(argv)
    for name, (module_name, help_text) in COMMANDS.items():
        if (full or name == wanted) and _register(subparsers, module_name):
            continue
        subparsers.add_parser(name, help=help_text)
    return parser


def _command_of(argv: Sequence[str] | None) -> str | None:
    """The first word that is not an option: the top level has only --help and --version."""
    for word in sys.argv[1:] if argv is None else argv:
        if not word.startswith("-"):
            return word
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    # The command line as given: `serve --workers N` re-runs it in each worker process.
    args.argv = list(sys.argv[1:] if argv is None else argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(handler(args))
    except UsageError as exc:
        print(f"mcpwarden: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
