"""`mcpwarden wrap [-c CONFIG] -- COMMAND [ARGS...]`: guard a local stdio MCP server.

Put it in any MCP client's config in place of the server's own command; see
docs/wrap.md for Claude Desktop, VS Code and Cursor snippets.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcpwarden.cli import UsageError
from mcpwarden.commands.state import DEFAULT_NAME, server_slug, state_home

if TYPE_CHECKING:
    from mcpwarden.config import GatewayConfig


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "wrap",
        help="run a stdio MCP server behind the guard pipeline (stdio in, stdio out)",
        description="Run COMMAND as a stdio MCP server behind the guard pipeline: the client speaks "
        "to mcpwarden on stdin/stdout exactly as it would to the server. Put this in an MCP client "
        "config in place of the server's command. The server's stderr passes through; without -c, "
        "pins and the audit persist in $XDG_STATE_HOME/mcpwarden/NAME.",
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


def check_command(command: str) -> None:
    """Name a missing or unusable command up front, instead of a failed session later."""
    from mcpwarden.commands.preflight import command_problem

    problem = command_problem(command)
    if problem:
        raise UsageError(f"cannot run the server: {problem}")


def build_config(args: argparse.Namespace) -> tuple[GatewayConfig, str]:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UsageError("wrap needs a server command after --, e.g. mcpwarden wrap -- npx -y some-server")
    check_command(command[0])
    from mcpwarden.config import ConfigError, GatewayConfig, StdioUpstream, load_config

    try:
        config = load_config(args.config) if args.config else GatewayConfig()
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    if not args.config:
        # Pins and audit persist per server across client restarts, so protection does too.
        state = state_home() / "mcpwarden" / (args.name or server_slug(command))
        config.audit.path = str(state / "audit.jsonl")
        config.store.path = str(state / "pins.sqlite3")
    if any(sink.type == "stdout" for sink in config.audit.sinks):
        raise UsageError("the stdout audit sink cannot be used with wrap: stdout carries the MCP messages")
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


def _pass_stderr_through() -> None:
    """The wrapped server's stderr goes to ours, line by line, as the client would have seen it
    without the wrapper (MCP clients show a server's stderr in their logs)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    child = logging.getLogger("mcpwarden.upstream.stderr")
    child.addHandler(handler)
    child.setLevel(logging.INFO)
    child.propagate = False


def _core(config: GatewayConfig) -> Any:
    from mcpwarden.audit.jsonl import AuditChainError
    from mcpwarden.gateway.core import GatewayCore

    try:
        return GatewayCore.from_config(config)
    except AuditChainError as exc:
        if not config.audit.path or "already open" not in str(exc):
            raise UsageError(str(exc)) from exc
    # Another wrapper of the same server is running (two clients, or one restarting): it keeps
    # the main audit file; this one writes its own beside it rather than fork that chain.
    main = Path(config.audit.path)
    config.audit.path = str(main.with_name(f"{main.stem}-{os.getpid()}{main.suffix}"))
    print(f"mcpwarden wrap: {main} is in use; auditing to {config.audit.path}", file=sys.stderr)
    return GatewayCore.from_config(config)


def run(args: argparse.Namespace) -> int:
    config, name = build_config(args)
    logging.basicConfig(level=logging.WARNING, format="mcpwarden wrap: %(levelname)s %(message)s")
    _pass_stderr_through()

    async def main() -> int:
        from mcpwarden.gateway.wrap import StdioFront

        return await StdioFront(_core(config), name).run()

    from mcpwarden.commands.serve import run_loop

    return int(run_loop(main()))
