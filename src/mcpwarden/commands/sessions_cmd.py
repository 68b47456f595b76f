"""`mcpwarden sessions list|revoke`: see and end the sessions of a running gateway.

The gateway publishes its live sessions in the store file (hashed ids only); `revoke`
marks rows there and the gateway closes them on the next request it serves, or within
a second if the session is idle. See `mcpwarden.gateway.session_registry` for why the
store, not an admin endpoint, carries this.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import TYPE_CHECKING

from mcpwarden.cli import EXIT_OK, UsageError
from mcpwarden.gateway.session_registry import MIN_HANDLE_PREFIX, SessionRegistry

if TYPE_CHECKING:
    from mcpwarden.gateway.replica_registry import ReplicaSessionRegistry

DEFAULT_STORE = "var/mcpwarden.sqlite3"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sessions",
        help="list or revoke the sessions of a running gateway",
        description="List or revoke client sessions of a running gateway (through its store file).",
    )
    where = argparse.ArgumentParser(add_help=False)
    group = where.add_mutually_exclusive_group()
    group.add_argument("-c", "--config", help="gateway config file: use its store path")
    group.add_argument(
        "--store", metavar="PATH", help=f"SQLite store (default: $MCPWARDEN_STORE or {DEFAULT_STORE})"
    )
    sub = parser.add_subparsers(dest="sessions_command", metavar="ACTION", required=True)

    p = sub.add_parser(
        "list",
        parents=[where],
        help="show live sessions",
        description="Show the gateway sessions with their principal (subject, client, issuer), endpoint, "
        "start time and whether they were revoked.",
    )
    p.add_argument("--subject", help="only this subject")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser(
        "revoke",
        parents=[where],
        help="end sessions now",
        description="End sessions now: the gateway that owns each one closes it at its next request "
        "or within a second.",
        epilog="An id that begins with '-' (minted by an older gateway) goes after `--`, "
        "once every option is given: mcpwarden sessions revoke --store PATH -- -ID",
    )
    p.add_argument(
        "id",
        nargs="?",
        help=f"a session id, or its handle as `list` shows it (unique prefix, {MIN_HANDLE_PREFIX}+ chars); "
        "put `--` before an id that begins with '-'",
    )
    p.add_argument("--subject", help="revoke every session of this subject")
    p.add_argument("--issuer", help="with --subject: only tokens from this issuer")
    p.add_argument("--by", default=None, help="who revokes, for the audit trail (default: $USER)")
    p.set_defaults(handler=cmd_revoke)


def _open_registry(args: argparse.Namespace) -> SessionRegistry | ReplicaSessionRegistry:
    """The live-session table of the gateway(s) using this config or store file.

    With a PostgreSQL config it is the table all replicas share, and a revocation is
    announced on the Redis change feed so the owning replica ends the session at once.
    """
    if args.config:
        # The config model pulls in the guards and detectors; only `-c` needs it.
        from mcpwarden.config import ConfigError, load_config

        try:
            config = load_config(args.config)
        except ConfigError as exc:
            raise UsageError(str(exc)) from exc
        if config.store.backend == "postgres":
            from mcpwarden.gateway.replica_registry import ReplicaSessionRegistry
            from mcpwarden.store.factory import open_backends

            backends = open_backends(config.store, "cli", start_feed=False)
            assert backends.pool is not None and backends.redis is not None
            return ReplicaSessionRegistry(
                backends.pool,
                backends.redis,
                backends.feed,
                prefix=config.store.redis_prefix,
                replica="cli",
            )
        return SessionRegistry(config.store.path)
    return SessionRegistry(str(args.store or os.environ.get("MCPWARDEN_STORE") or DEFAULT_STORE))


def cmd_list(args: argparse.Namespace) -> int:
    registry = _open_registry(args)
    try:
        rows = registry.rows()
    finally:
        registry.close()
    if args.subject is not None:
        rows = [r for r in rows if r.subject == args.subject]
    if args.json:
        json.dump([r.to_dict() for r in rows], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} session(s)")
    for column in ("handle", "subject", "client", "issuer", "endpoint", "created", "state"):
        table.add_column(column)
    for r in rows:
        state = f"revoked {r.revoked_at}" if r.revoked_at else "live"
        table.add_row(
            r.handle[:16], r.subject, r.client_id or "-", r.issuer or "-", r.endpoint, r.created_at, state
        )
    Console().print(table)
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace) -> int:
    if (args.id is None) == (args.subject is None):
        raise UsageError("give either a session id/handle or --subject")
    if args.issuer is not None and args.subject is None:
        raise UsageError("--issuer only narrows --subject")
    by = args.by or _user()
    registry = _open_registry(args)
    try:
        revoked = registry.revoke(by=by, handle=args.id, subject=args.subject, issuer=args.issuer)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    finally:
        registry.close()
    if not revoked:
        raise UsageError("no live session matches")
    for r in revoked:
        print(f"revoked {r.handle[:16]} ({r.subject}, {r.endpoint})")
    return EXIT_OK


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


__all__ = ["register"]
