"""`mcpwarden admin disable|enable|list|sessions`: the kill switch and the live sessions.

The kill switch lives in the gateway's store file, so this command and a running gateway
(and its admin HTTP API) act on the same state: a `disable` here applies to the next
message of every live session of that gateway, which audits the change when it sees it.
`enable` reverses it.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import getpass
import json
import os
import sys
from typing import Any

from mcpwarden.admin.counters import read_counters
from mcpwarden.admin.killswitch import KINDS, KillSwitch, KillSwitchStore
from mcpwarden.cli import EXIT_OK, UsageError
from mcpwarden.gateway.session_registry import SessionRegistry, SessionRow
from mcpwarden.store.base import StoreUnavailable

DEFAULT_STORE = "var/mcpwarden.sqlite3"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "admin",
        help="kill switch (disable/enable servers, tools, principals, sessions) and live sessions",
        description="Contain an incident without a restart: disable a server, tool, principal or "
        "session of a running gateway (through its store file), and list live sessions.",
    )
    where = argparse.ArgumentParser(add_help=False)
    group = where.add_mutually_exclusive_group()
    group.add_argument("-c", "--config", help="gateway config file: use its store path")
    group.add_argument(
        "--store", metavar="PATH", help=f"SQLite store (default: $MCPWARDEN_STORE or {DEFAULT_STORE})"
    )
    sub = parser.add_subparsers(dest="admin_command", metavar="ACTION", required=True)

    for action, text, description in (
        (
            "disable",
            "stop every message that touches it",
            "Kill switch: refuse every message that touches a server, tool, principal or session, "
            "on every replica sharing the store, and close the sessions it names. Audited.",
        ),
        ("enable", "lift a disable", "Lift a disable set with `admin disable` (on every replica). Audited."),
    ):
        p = sub.add_parser(action, parents=[where], help=text, description=description)
        p.add_argument("kind", choices=KINDS)
        p.add_argument(
            "name",
            help="server: upstream name; tool: TOOL or UPSTREAM/TOOL; principal: subject or "
            "issuer|subject|client; session: id or handle (8+ hex chars)",
        )
        if action == "disable":
            p.add_argument("--reason", help="why, for the audit trail")
            p.add_argument("--by", help="who, for the audit trail (default: $USER)")
        p.set_defaults(handler=cmd_disable if action == "disable" else cmd_enable)

    p = sub.add_parser(
        "list",
        parents=[where],
        help="what is disabled",
        description="List what the kill switch disables now, with who disabled it, when and why.",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser(
        "sessions",
        parents=[where],
        help="live sessions with principal, upstreams, age, counters",
        description="List the live sessions of every replica with their principal, upstreams, age and "
        "call counters.",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_sessions)


def _store_path(args: argparse.Namespace) -> str:
    if args.config:
        from mcpwarden.config import ConfigError, load_config

        try:
            return load_config(args.config).store.path
        except ConfigError as exc:
            raise UsageError(str(exc)) from exc
    return str(args.store or os.environ.get("MCPWARDEN_STORE") or DEFAULT_STORE)


def _killswitch(args: argparse.Namespace) -> KillSwitchStore:
    """The gateway's kill switch: the Redis hash of replicas (`-c` with backend postgres) or the file."""
    if args.config:
        from mcpwarden.admin.killswitch_open import open_killswitch
        from mcpwarden.config import ConfigError, load_config

        try:
            store = load_config(args.config).store
        except ConfigError as exc:
            raise UsageError(str(exc)) from exc
        return open_killswitch(store)
    return KillSwitch(_store_path(args))


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def cmd_disable(args: argparse.Namespace) -> int:
    ks = _killswitch(args)
    try:
        entry = ks.disable(args.kind, args.name, by=args.by or _user(), reason=args.reason)
    except (ValueError, StoreUnavailable) as exc:
        raise UsageError(str(exc)) from exc
    finally:
        ks.close()
    print(f"disabled {entry.kind} {entry.name}")
    return EXIT_OK


def cmd_enable(args: argparse.Namespace) -> int:
    ks = _killswitch(args)
    try:
        found = ks.enable(args.kind, args.name)
    except (ValueError, StoreUnavailable) as exc:
        raise UsageError(str(exc)) from exc
    finally:
        ks.close()
    if not found:
        raise UsageError(f"{args.kind} {args.name} is not disabled")
    print(f"enabled {args.kind} {args.name}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    ks = _killswitch(args)
    try:
        entries = ks.list()
    except StoreUnavailable as exc:
        raise UsageError(str(exc)) from exc
    finally:
        ks.close()
    if args.json:
        json.dump([e.to_dict() for e in entries], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(entries)} disabled")
    for column in ("kind", "name", "since", "by", "reason"):
        table.add_column(column, overflow="fold")
    for e in entries:
        table.add_row(e.kind, e.name, e.disabled_at, e.disabled_by, e.reason or "-")
    Console().print(table)
    return EXIT_OK


def _age(created_at: str) -> float:
    created = _dt.datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    return max(0.0, (_dt.datetime.now(_dt.UTC) - created).total_seconds())


def _short(seconds: float) -> str:
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    return f"{s // 3600}h"


def _live_sessions(args: argparse.Namespace) -> tuple[list[SessionRow], dict[str, dict[str, Any]]]:
    """Live sessions and their counters: of every live replica (`-c` with backend postgres:
    rows in PostgreSQL, presence and counters in Redis) or of the gateway on the store file."""
    if args.config:
        from mcpwarden.commands.sessions_cmd import _open_registry
        from mcpwarden.gateway.replica_registry import ReplicaSessionRegistry

        registry = _open_registry(args)
        try:
            rows = [r for r in registry.rows() if r.revoked_at is None]
            if isinstance(registry, ReplicaSessionRegistry):
                from mcpwarden.admin.counters_redis import read_replica_counters

                replicas = sorted({r.replica for r in rows if r.replica})
                return rows, read_replica_counters(registry.redis, registry.prefix, replicas)
        finally:
            registry.close()
    path = _store_path(args)
    registry = SessionRegistry(path)
    try:
        rows = [r for r in registry.rows() if r.revoked_at is None]
    finally:
        registry.close()
    return rows, read_counters(path)


def cmd_sessions(args: argparse.Namespace) -> int:
    try:
        rows, counters = _live_sessions(args)
    except StoreUnavailable as exc:
        raise UsageError(str(exc)) from exc
    out: list[dict[str, Any]] = []
    for r in rows:
        counts = counters.get(r.handle, {})
        out.append(
            {
                **({"replica": r.replica} if r.replica is not None else {}),
                "handle": r.handle,
                "subject": r.subject,
                "client_id": r.client_id,
                "upstreams": r.upstreams.split(",") if r.upstreams else [],
                "endpoint": r.endpoint,
                "created_at": r.created_at,
                "age_s": round(_age(r.created_at), 1),
                "requests": counts.get("requests", 0),
                "denials": counts.get("denials", 0),
                "errors": counts.get("errors", 0),
                "bytes_out": counts.get("bytes_out", 0),
                "last_request": counts.get("last_request"),
            }
        )
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(out)} live session(s)")
    for column in ("replica", "handle", "subject", "upstreams", "age", "req", "deny", "err"):
        table.add_column(column, overflow="fold")
    for row in out:
        table.add_row(
            row.get("replica", "-"),
            row["handle"][:12],
            row["subject"],
            ",".join(row["upstreams"]),
            _short(row["age_s"]),
            str(row["requests"]),
            str(row["denials"]),
            str(row["errors"]),
        )
    Console().print(table)
    return EXIT_OK


__all__ = ["register"]
