"""`mcpwarden audit verify|tail`: check and read hash-chained audit files.

`verify` exits 0 when the file is intact, 1 when it was tampered with (naming the first
bad line), and 2 when it cannot be read; CI and cron jobs depend on those codes.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mcpwarden.audit import verify
from mcpwarden.audit.tailread import last_lines
from mcpwarden.cli import EXIT_FINDINGS, EXIT_OK, UsageError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="verify and read hash-chained audit files",
        description="Verify and read mcpwarden's hash-chained JSONL audit files.",
    )
    parser.set_defaults(handler=_missing_action(parser))
    actions = parser.add_subparsers(dest="audit_action", metavar="ACTION")

    p_verify = actions.add_parser(
        "verify",
        help="check the hash chain and head anchor; exit 1 naming the first bad line",
        description="Check every record's hash, order and chain, and the FILE.head anchor.",
    )
    p_verify.add_argument(
        "file",
        metavar="FILE",
        nargs="+",
        help="one audit file, or the files of several replicas: each chain is checked, and the "
        "set for duplicated chains and spliced replicas",
    )
    p_verify.add_argument(
        "--require-head",
        action="store_true",
        help="fail when FILE.head is missing (otherwise lines removed from the end go unnoticed)",
    )
    p_verify.set_defaults(handler=_verify)

    p_tail = actions.add_parser(
        "tail", help="pretty-print the last records", description="Show the last records."
    )
    p_tail.add_argument("file", metavar="FILE")
    p_tail.add_argument(
        "-n", "--lines", type=int, default=20, metavar="N", help="how many records (default 20)"
    )
    p_tail.set_defaults(handler=_tail)


def _missing_action(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        raise UsageError(f"choose an action: verify or tail (see `{parser.prog} --help`)")

    return handler


def _verify(args: argparse.Namespace) -> int:
    if len(args.file) > 1:
        return _verify_set(args)
    (path,) = args.file
    try:
        result = verify(path, require_head=args.require_head)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    print(result.summary())
    return EXIT_OK if result.ok else EXIT_FINDINGS


def _verify_set(args: argparse.Namespace) -> int:
    from mcpwarden.audit.chains import verify_set

    try:
        result = verify_set(args.file, require_head=args.require_head)
    except OSError as exc:
        raise UsageError(f"cannot read {exc.filename}: {exc.strerror or exc}") from None
    print(result.summary())
    return EXIT_OK if result.ok else EXIT_FINDINGS


_COLUMNS = ("seq", "time", "event", "session", "principal", "target", "decision", "latency")
_DECISION_STYLES = {"deny": "bold red", "alert": "yellow", "rewrite": "cyan", "pass": "green"}


def _tail(args: argparse.Namespace) -> int:
    if args.lines < 1:
        raise UsageError("-n must be at least 1")
    try:
        with open(args.file, "rb") as f:
            lines = last_lines(f, args.lines)
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    table = Table(title=args.file, expand=False)
    for column in _COLUMNS:
        table.add_column(column, no_wrap=column in ("seq", "time", "event"))
    for raw in lines:
        table.add_row(*_row(raw))
    Console().print(table)
    return EXIT_OK


def _row(raw: bytes) -> tuple[str | Text, ...]:
    """One table row; a line that is not a record is shown as such rather than hidden."""
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        record = None
    if not isinstance(record, dict):
        shown = raw[:60].decode("utf-8", "replace").rstrip("\n")
        return ("?", "", Text("not a record", style="bold red"), shown, "", "", "", "")
    target = "/".join(str(record[k]) for k in ("upstream", "method", "tool") if record.get(k))
    decision = str(record.get("decision") or "")
    if record.get("guard"):
        decision += f" ({record['guard']}"
        decision += f": {record['reason']})" if record.get("reason") else ")"
    style = _DECISION_STYLES.get(str(record.get("decision")), "")
    latency = record.get("latency_ms")
    return (
        str(record.get("seq", "?")),
        _short_time(record.get("time")),
        str(record.get("event", "")),
        str(record.get("session") or "")[:12],
        str(record.get("principal") or ""),
        target,
        Text(decision, style=style),
        f"{latency:.2f} ms" if isinstance(latency, int | float) else "",
    )


def _short_time(value: Any) -> str:
    """`2026-01-02T03:04:05.123456Z` shown as `2026-01-02 03:04:05.123`: narrow enough to fit."""
    text = str(value or "")
    return text[:23].replace("T", " ") if len(text) >= 23 else text
