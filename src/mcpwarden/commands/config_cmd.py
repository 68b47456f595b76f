"""`mcpwarden config schema|check`: the config file's JSON Schema and a validator."""

from __future__ import annotations

import argparse
import json
from typing import Any

from mcpwarden.cli import UsageError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "config",
        help="print the config JSON Schema or check a config file",
        description="Work with gateway config files: `check` validates one and everything serve "
        "needs from it; `schema` prints the JSON Schema for editors.",
    )
    sub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    schema = sub.add_parser(
        "schema",
        help="print the JSON Schema of the config file (for editors)",
        description="Print the JSON Schema of the gateway config file, for editor completion and "
        "validation (e.g. a yaml-language-server `$schema` line).",
    )
    schema.set_defaults(handler=_schema)
    check = sub.add_parser(
        "check",
        help="validate a config file and everything serve needs from it",
        description="Validate a config file, then check what `serve` would fail on: missing policy or "
        "secret files, stdio commands not on PATH, unwritable state paths, a port in use.",
    )
    check.add_argument("file")
    check.set_defaults(handler=_check)


def _schema(_args: argparse.Namespace) -> int:
    from mcpwarden.config import config_json_schema

    print(json.dumps(config_json_schema(), indent=2))
    return 0


def _check(args: argparse.Namespace) -> int:
    import sys

    from mcpwarden.commands.preflight import problems, read_raw, warnings
    from mcpwarden.config import ConfigError, load_config

    try:
        cfg = load_config(args.file)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    raw = read_raw(args.file)
    for line in warnings(cfg, args.file, raw):
        print(line, file=sys.stderr)
    found = problems(cfg, args.file, raw=raw)
    if found:
        raise UsageError("\n".join(found))
    print(f"{args.file}: ok ({len(cfg.upstreams)} upstreams)")
    return 0
