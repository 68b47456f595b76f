"""`mcpwarden pins`: review and decide on pinned tool, prompt and resource-template definitions.

The gateway writes pending definitions into the store; this command is how a person
looks at them (`list`, `diff`) and decides (`approve`, `reject`). A running gateway
notices the decision through the store's revision, without a restart. `export` and
`import` move pins between machines as JSON, with every hash re-checked on import.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from mcpwarden.cli import EXIT_OK, UsageError
from mcpwarden.pinning import KINDS, definition_diff, definition_hash
from mcpwarden.store import PIN_STATUSES, Pin, SQLiteStore, Store, StoreError

DEFAULT_STORE = "var/mcpwarden.sqlite3"
EXPORT_FORMAT = "mcpwarden-pins/1"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "pins",
        help="list, diff, approve, reject, export or import pinned definitions",
        description="Review pinned MCP tool, prompt and resource-template definitions.",
    )
    store_help = f"SQLite store (default: $MCPWARDEN_STORE or {DEFAULT_STORE})"
    config_help = "gateway config file: use its store (SQLite file or PostgreSQL, for replicas)"
    parser.add_argument("--store", metavar="PATH", default=None, help=store_help)
    parser.add_argument("-c", "--config", metavar="FILE", default=None, help=config_help)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", metavar="PATH", default=argparse.SUPPRESS, help=store_help)
    common.add_argument("-c", "--config", metavar="FILE", default=argparse.SUPPRESS, help=config_help)
    sub = parser.add_subparsers(dest="pins_command", metavar="ACTION", required=True)

    p = sub.add_parser(
        "list",
        parents=[common],
        help="show pins as a table",
        description="Show the pinned tool, prompt and resource definitions with their status "
        "(approved, quarantined, rejected).",
    )
    p.add_argument("upstream", nargs="?", help="only this upstream")
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--status", choices=PIN_STATUSES)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser(
        "diff",
        parents=[common],
        help="show what changed in a pending definition",
        description="Show the difference between the approved definition and the one waiting for "
        "review (what a rug pull changed).",
    )
    p.add_argument("upstream")
    p.add_argument("name")
    p.add_argument("--kind", choices=KINDS, default="tool")
    p.set_defaults(handler=cmd_diff)

    for action, handler, verb in (("approve", cmd_approve, "approve"), ("reject", cmd_reject, "reject")):
        p = sub.add_parser(
            action,
            parents=[common],
            help=f"{verb} the waiting definition",
            description=f"{verb.capitalize()} the definition waiting for review; every gateway sharing "
            "the store applies the decision at its next request.",
        )
        p.add_argument("upstream")
        p.add_argument("name")
        p.add_argument("--kind", choices=KINDS, default="tool")
        p.add_argument("--by", default=None, help="who decides (default: $USER)")
        if action == "approve":
            p.add_argument(
                "--hash", default=None, help="approve only if the waiting definition has this hash (prefix)"
            )
        p.set_defaults(handler=handler)

    p = sub.add_parser(
        "export",
        parents=[common],
        help="write pins as JSON",
        description="Write the pins as JSON, to review them or to import them into another store.",
    )
    p.add_argument("upstream", nargs="?", help="only this upstream")
    p.add_argument("--output", metavar="FILE", help="default: stdout")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser(
        "import",
        parents=[common],
        help="read pins from an export (replaces matching pins)",
        description="Read pins from a `pins export` file; pins with the same upstream, kind and name "
        "are replaced.",
    )
    p.add_argument("file", metavar="FILE")
    p.set_defaults(handler=cmd_import)


def open_store(args: argparse.Namespace) -> Store:
    """The store named by --store, or the one a gateway config (-c) uses.

    With a PostgreSQL config every decision is announced on the Redis change feed, so all
    replicas act on it within a second.
    """
    if getattr(args, "config", None):
        from mcpwarden.cli import UsageError
        from mcpwarden.config import ConfigError, load_config
        from mcpwarden.store.factory import open_backends

        try:
            config = load_config(args.config)
        except ConfigError as exc:
            raise UsageError(str(exc)) from exc
        return open_backends(config.store, "cli", start_feed=False).store
    path = args.store or os.environ.get("MCPWARDEN_STORE") or DEFAULT_STORE
    return SQLiteStore(path)


def _who(args: argparse.Namespace) -> str:
    return str(args.by or os.environ.get("USER") or "cli")


def _get(store: Store, upstream: str, kind: str, name: str) -> Pin:
    pin = store.get_pin(upstream, kind, name)
    if pin is None:
        raise UsageError(f"no {kind} pin named {name!r} for upstream {upstream!r}")
    return pin


def cmd_list(args: argparse.Namespace) -> int:
    store = open_store(args)
    pins = [p for p in store.list_pins(args.upstream, kind=args.kind) if args.status in (None, p.status)]
    if args.json:
        print(json.dumps([_summary(p) for p in pins], indent=2, ensure_ascii=False))
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"pins in {getattr(store, 'path', 'store')}", show_lines=False)
    for column in ("upstream", "kind", "name", "status", "pinned", "pending", "approved by", "approved at"):
        table.add_column(column, no_wrap=column in ("status", "pinned", "pending"), overflow="fold")
    styles = {"approved": "green", "quarantined": "yellow", "rejected": "red"}
    for p in pins:
        table.add_row(
            p.upstream,
            p.kind,
            p.name,
            Text(p.status, style=styles[p.status]),
            p.hash[:12],
            (p.pending_hash or "")[:12],
            p.approved_by or "",
            p.approved_at or "",
        )
    Console(highlight=False).print(table)
    return EXIT_OK


def _summary(p: Pin) -> dict[str, Any]:
    return {
        "upstream": p.upstream,
        "kind": p.kind,
        "name": p.name,
        "status": p.status,
        "hash": p.hash,
        "pending_hash": p.pending_hash,
        "approved_by": p.approved_by,
        "approved_at": p.approved_at,
        "first_seen": p.first_seen,
    }


def cmd_diff(args: argparse.Namespace) -> int:
    pin = _get(open_store(args), args.upstream, args.kind, args.name)
    if pin.pending_definition is not None:
        text = pin.pending_diff or definition_diff(pin.definition, pin.pending_definition)
    elif not pin.is_approved:
        text = definition_diff(
            None, pin.definition, old_label="(nothing approved)", new_label=f"offered@{pin.hash[:12]}"
        )
    else:
        text = ""
    # soft_wrap: a long line stays one line, so the output (piped to a file or a pager) is
    # still a unified diff that `patch` and reviewers can read; rich would otherwise fold it
    # at the terminal width and the continuation lines would lose their +/- markers.
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=True)
    if not text:
        console.print(
            f"{args.upstream}/{args.name}: no change waiting; pinned definition {pin.hash[:12]} is approved"
        )
        return EXIT_OK
    for line in text.splitlines():
        style = None
        if line.startswith("+") and not line.startswith("+++"):
            style = "green"
        elif line.startswith("-") and not line.startswith("---"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        console.print(Text(line, style=style or ""))
    return EXIT_OK


def cmd_approve(args: argparse.Namespace) -> int:
    store = open_store(args)
    _get(store, args.upstream, args.kind, args.name)
    try:
        pin = store.approve(args.upstream, args.kind, args.name, _who(args), expected_hash=args.hash)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    print(
        f"approved {pin.upstream}/{pin.kind}/{pin.name} {pin.hash} by {pin.approved_by} at {pin.approved_at}"
    )
    return EXIT_OK


def cmd_reject(args: argparse.Namespace) -> int:
    store = open_store(args)
    _get(store, args.upstream, args.kind, args.name)
    pin = store.reject(args.upstream, args.kind, args.name, _who(args))
    print(f"rejected {pin.upstream}/{pin.kind}/{pin.name} {pin.candidate_hash}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    pins = open_store(args).list_pins(args.upstream)
    text = json.dumps(
        {"format": EXPORT_FORMAT, "pins": [p.to_dict() for p in pins]}, indent=2, ensure_ascii=False
    )
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"file not found: {args.file}") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read {args.file}: {exc}") from None
    if (
        not isinstance(data, dict)
        or data.get("format") != EXPORT_FORMAT
        or not isinstance(data.get("pins"), list)
    ):
        raise UsageError(f"{args.file}: not a {EXPORT_FORMAT} export")
    pins = [_pin_from(i, raw) for i, raw in enumerate(data["pins"])]
    store = open_store(args)
    for pin in pins:
        store.put_pin(pin)
    print(f"imported {len(pins)} pins into {getattr(store, 'path', 'store')}")
    return EXIT_OK


def _pin_from(index: int, raw: Any) -> Pin:
    where = f"pins[{index}]"
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: expected an object")
    try:
        definition = raw["definition"]
        pending = raw.get("pending_definition")
        pin = Pin(
            upstream=str(raw["upstream"]),
            kind=str(raw["kind"]),
            name=str(raw["name"]),
            hash=str(raw["hash"]),
            status=raw["status"],
            definition=definition,
            approved_by=raw.get("approved_by"),
            approved_at=raw.get("approved_at"),
            first_seen=raw.get("first_seen"),
            pending_hash=raw.get("pending_hash"),
            pending_definition=pending,
            pending_diff=raw.get("pending_diff"),
            pending_since=raw.get("pending_since"),
        )
    except KeyError as exc:
        raise UsageError(f"{where}: missing field {exc.args[0]!r}") from None
    if pin.kind not in KINDS or pin.status not in PIN_STATUSES or not isinstance(definition, dict):
        raise UsageError(f"{where}: bad kind, status or definition")
    if definition_hash(definition) != pin.hash:
        raise UsageError(f"{where}: hash does not match the definition ({pin.upstream}/{pin.name})")
    if pending is not None and (
        not isinstance(pending, dict) or definition_hash(pending) != pin.pending_hash
    ):
        raise UsageError(f"{where}: pending_hash does not match the pending definition")
    return pin
