"""`mcpwarden wrap [-c CONFIG] -- COMMAND [ARGS...]`: guard a local stdio MCP server.

Put it in any MCP client's config in place of the server's own command; see
docs/wrap.md for Claude Desktop, VS Code and Cursor snippets.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

from mcpwarden.cli import UsageError
from mcpwarden.config import ConfigError, GatewayConfig, StdioUpstream, load_config

DEFAULT_NAME = "wrapped"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "wrap",
        help="run a stdio MCP server behind the guard pipeline (stdio in, stdio out)",
        usage="mcpwarden wrap [-c CONFIG] [--name NAME] [--env NAME ...] -- COMMAND [ARGS...]",
    )
    p.add_argument("-c", "--config", help="config file (guards, audit); upstreams.<name> settings apply")
    p.add_argument(
        "--name", default=None, help=f"upstream name used in config and audit (default {DEFAULT_NAME})"
    )
    p.add_argument(
        "--env",
        action="append",
        metavar="NAME",
        help="pass only these environment variables to the server (repeatable); by default the server "
        "gets the environment the MCP client gave the wrapper",
    )
    p.add_argument("command", nargs=argparse.REMAINDER, help="the server command after --")
    p.set_defaults(handler=run)


def build_config(args: argparse.Namespace) -> tuple[GatewayConfig, str]:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UsageError("wrap needs a server command after --, e.g. mcpwarden wrap -- npx -y some-server")
    try:
        config = load_config(args.config) if args.config else GatewayConfig()
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    if not args.config:
        config.audit.path = None  # no file written unless the user asks for one
    name = args.name or (next(iter(config.upstreams)) if len(config.upstreams) == 1 else DEFAULT_NAME)
    base = config.upstreams.get(name)
    settings = (
        base.model_dump(
            exclude={
                "transport",
                "url",
                "headers",
                "command",
                "args",
                "cwd",
                "env",
                "env_passthrough",
                "max_line_bytes",
            }
        )
        if base
        else {}
    )
    passthrough = args.env if args.env is not None else sorted(os.environ)
    config.upstreams = {
        name: StdioUpstream(command=command[0], args=command[1:], env_passthrough=passthrough, **settings)
    }
    return config, name


def run(args: argparse.Namespace) -> int:
    config, name = build_config(args)
    logging.basicConfig(level=logging.WARNING, format="mcpwarden wrap: %(levelname)s %(message)s")

    async def main() -> int:
        from mcpwarden.gateway.core import GatewayCore
        from mcpwarden.gateway.wrap import StdioFront

        return await StdioFront(GatewayCore.from_config(config), name).run()

    from mcpwarden.commands.serve import run_loop

    return int(run_loop(main()))
