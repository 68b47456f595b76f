"""`mcpwarden serve --upstream URL` and `mcpwarden serve -- COMMAND ARGS...`: front one server
with the defaults, no config file.

The defaults are the config file's (loopback only, guards on, pinning trust-on-first-use,
content defense); what a file would say about state comes from the per-user state folder, as
for `wrap`: `$XDG_STATE_HOME/mcpwarden/<name>/` holds the audit trail and the pins, so nothing
is written into whatever folder the command was started from.
"""

from __future__ import annotations

import argparse
import os
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from mcpwarden.cli import UsageError

if TYPE_CHECKING:
    from mcpwarden.config import GatewayConfig

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,47}$")


def wanted(args: argparse.Namespace) -> bool:
    """True when the command line names the server itself (no config file)."""
    return bool(args.upstream or _command(args))


def _command(args: argparse.Namespace) -> list[str]:
    command = list(args.command or [])
    return command[1:] if command[:1] == ["--"] else command


def build(args: argparse.Namespace) -> tuple[GatewayConfig, str]:
    """The config for the one server on the command line, and a label for messages."""
    from mcpwarden.commands.preflight import command_problem
    from mcpwarden.commands.state import server_slug, state_home
    from mcpwarden.config import GatewayConfig, HttpUpstream, StdioUpstream

    command = _command(args)
    if args.config:
        raise UsageError("give either -c CONFIG or one server (--upstream URL or -- COMMAND), not both")
    if args.upstream and command:
        raise UsageError("give one server: --upstream URL or -- COMMAND, not both")
    if args.upstream:
        parts = urlsplit(args.upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--upstream must be an http(s) URL, got {args.upstream!r}")
        name = args.name or _slug(parts.hostname.split(".")[0])
        # The user named this address on the command line: an internal one (a local dev server)
        # is what they asked for. A host name keeps the default, so DNS cannot turn it inward.
        upstream: HttpUpstream | StdioUpstream = HttpUpstream(
            url=args.upstream, allow_private=_internal_literal(parts.hostname)
        )
        label = args.upstream
    else:
        problem = command_problem(command[0])
        if problem:
            raise UsageError(f"cannot run the server: {problem}")
        name = args.name or _slug(server_slug(command))
        # The user typed the command in their own shell: the child gets that environment.
        upstream = StdioUpstream(command=command[0], args=command[1:], env_passthrough=sorted(os.environ))
        label = " ".join(command)
    if not _NAME.match(name):
        raise UsageError(f"--name {name!r} must be lowercase letters, digits and '-', starting with a letter")
    config = GatewayConfig(upstreams={name: upstream})
    state = state_home() / "mcpwarden" / name
    config.audit.path = str(state / "audit.jsonl")
    config.store.path = str(state / "pins.sqlite3")
    return config, label


def _slug(word: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", word.lower()).strip("-")[:48]
    return slug if _NAME.match(slug) else "server"


def _internal_literal(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local
