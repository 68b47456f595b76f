"""The single `mcpwarden` entry point.

Each subcommand lives in its own module under `mcpwarden.commands` and exposes
`register(subparsers)`; this file only wires them together, so features can be
added without touching each other's code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from mcpwarden import __version__

# Module names under mcpwarden.commands, in the order they appear in --help.
COMMAND_MODULES: tuple[str, ...] = (
    "serve",
    "wrap",
    "config_cmd",
    "audit_cmd",
    "policy_cmd",
    "detect_cmd",
    "scan_tools_cmd",
    "scan_cmd",
    "pins_cmd",
    "sessions_cmd",
)

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with the user's input: reported on stderr with exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcpwarden",
        description="Security gateway, stdio wrapper and scanner for the Model Context Protocol.",
    )
    parser.add_argument("--version", action="version", version=f"mcpwarden {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"mcpwarden.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"mcpwarden.commands.{name}":
                continue  # feature not present in this build
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
