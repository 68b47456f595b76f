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
    p_tail.add_argument("--json", action="store_true", help="print the records as JSON lines (for jq)")
    p_tail.add_argument(
        "-f", "--follow", action="store_true", help="keep printing records as they are appended (Ctrl-C ends)"
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


_DECISION_STYLES = {"deny": "bold red", "alert": "yellow", "rewrite": "cyan", "pass": "green"}


def _tail(args: argparse.Namespace) -> int:
    """One line per record, fitted to the terminal (80 columns stay readable); --json prints
    the records as they are; --follow keeps reading what the gateway appends."""
    import io
    import shutil
    import sys
    import time

    if args.lines < 1:
        raise UsageError("-n must be at least 1")
    width = shutil.get_terminal_size((100, 24)).columns
    console = Console(highlight=False, soft_wrap=True)

    def show(raw: bytes) -> None:
        if args.json:
            sys.stdout.write(raw.decode("utf-8", "replace").rstrip("\n") + "\n")
            sys.stdout.flush()
        else:
            console.print(_line(_row(raw), width))

    try:
        with open(args.file, "rb") as f:
            # Lines up to a fixed end, so that --follow continues exactly there even while
            # the gateway appends.
            end = f.seek(0, 2)
            window = 1 << 16
            while True:
                start = max(0, end - window)
                f.seek(start)
                data = f.read(end - start)
                if start == 0 or data.count(b"\n") > args.lines:
                    break
                window *= 4
            for raw in last_lines(io.BytesIO(data), args.lines):
                show(raw)
            if not args.follow:
                return EXIT_OK
            f.seek(end)
            pending = b""
            try:
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        if f.tell() > _size(args.file):  # truncated or replaced: start over
                            f.seek(0)
                        time.sleep(0.25)
                        continue
                    pending += chunk
                    *complete, pending = pending.split(b"\n")
                    for raw in complete:
                        if raw.strip():
                            show(raw)
            except KeyboardInterrupt:
                return EXIT_OK
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from None


def _size(path: str) -> int:
    import os

    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _line(row: tuple[str | Text, ...], width: int) -> Text:
    """seq, time of day, event, target, decision and latency on one line of at most `width`
    columns; session and principal only when there is room. The target keeps at least 24
    columns; the decision's reason is cut before it."""
    seq, when, event, session, principal, target, decision, latency = row
    head = Text(f"{seq:>5} {str(when)[11:] or when} {event!s:<15} ")
    verdict = decision if isinstance(decision, Text) else Text(str(decision))
    tail = Text(" ") + verdict + Text(f" {latency}" if latency else "")
    middle = str(target)
    if width >= 120 and (principal or session):
        middle = f"{middle} [{principal or '-'} {session}]"
    keep = min(len(middle), 24)
    over = len(head) + keep + len(tail) - width
    if over > 0:
        tail = _cut(tail, len(tail) - over)
    room = max(1, width - len(head) - len(tail))
    if len(middle) > room:
        middle = middle[: room - 1] + "…"
    return head + Text(middle) + tail


def _cut(text: Text, width: int) -> Text:
    if len(text) <= width:
        return text
    if width <= 1:
        return Text("")
    cut = text[: width - 1]
    cut.append("…")
    return cut


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
    elif record.get("reason"):
        decision = f"{decision} {record['reason']}".strip()
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
