"""`mcpwarden audit tail --follow | search | export`: reading audit files during an incident.

Filters are shared by all three: time (`--since`, `--until`: RFC 3339 or a relative age
such as `15m`, `2h`, `1d`), principal, upstream, tool, decision, event and session
(prefix). Text output is one line per record, cut to the terminal width (80 columns when
not a terminal), so it stays readable in a narrow pane; `--json` prints the records as
they are in the file, for piping into `jq`. `export` writes JSON lines or CSV.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as _dt
import itertools
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from mcpwarden.cli import EXIT_OK, UsageError

FOLLOW_POLL_S = 0.25
CSV_COLUMNS = (
    "time",
    "seq",
    "event",
    "session",
    "principal",
    "upstream",
    "method",
    "tool",
    "decision",
    "guard",
    "reason",
    "message",
    "latency_ms",
    "request_bytes",
    "response_bytes",
    "args_sha256",
    "hash",
)
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def add_filters(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("filters")
    g.add_argument(
        "--since", metavar="TIME", help="records at or after TIME (RFC 3339, or 15m / 2h / 1d ago)"
    )
    g.add_argument("--until", metavar="TIME", help="records before TIME")
    g.add_argument("--principal", help="principal (exact, or its subject)")
    g.add_argument("--upstream")
    g.add_argument("--tool")
    g.add_argument("--decision", help="allow, deny, error, rewrite, alert, ...")
    g.add_argument("--event", help="request, decision, alert, session.start, ...")
    g.add_argument("--session", help="session id or the prefix of one")


def parse_time(value: str, now: _dt.datetime | None = None) -> str:
    """A filter time as the record format (`...Z`), comparable as text."""
    m = _RELATIVE.match(value.strip())
    if m:
        at = (now or _dt.datetime.now(_dt.UTC)) - _dt.timedelta(
            seconds=float(m.group(1)) * _UNITS[m.group(2)]
        )
    else:
        try:
            at = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"not a time: {value!r} (use RFC 3339 or 15m, 2h, 1d)") from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=_dt.UTC)
    return at.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Filter:
    def __init__(self, args: argparse.Namespace) -> None:
        self.since = parse_time(args.since) if args.since else None
        self.until = parse_time(args.until) if args.until else None
        self.exact = {
            k: getattr(args, k)
            for k in ("upstream", "tool", "decision", "event")
            if getattr(args, k) is not None
        }
        self.principal = args.principal
        self.session = args.session

    def __call__(self, record: dict[str, Any]) -> bool:
        when = str(record.get("time", ""))
        if self.since is not None and when < self.since:
            return False
        if self.until is not None and when >= self.until:
            return False
        for key, wanted in self.exact.items():
            if str(record.get(key)) != wanted:
                return False
        if self.principal is not None:
            principal = str(record.get("principal", ""))
            if principal != self.principal and principal.split("|")[1:2] != [self.principal]:
                return False
        return self.session is None or str(record.get("session", "")).startswith(self.session)


def _records(lines: Iterator[bytes]) -> Iterator[tuple[bytes, dict[str, Any]]]:
    for raw in lines:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict):
            yield raw.rstrip(b"\n"), record


def compact(record: dict[str, Any], width: int) -> str:
    """One record on one line: time, event, decision, principal, target, reason."""
    when = str(record.get("time", ""))[11:19]
    principal = str(record.get("principal") or "-")
    parts = principal.split("|")
    who = parts[1] if len(parts) == 3 else principal
    target = "/".join(str(record[k]) for k in ("upstream", "tool") if record.get(k)) or str(
        record.get("method") or ""
    )
    decision = str(record.get("decision") or "")
    reason = str(record.get("reason") or record.get("message") or "")
    event = str(record.get("event", ""))
    seq = str(record.get("seq", "?"))
    # 62 columns of fixed fields leave the reason 18 at 80 columns.
    text = f"{when:<8} {seq:>5} {event:<12.12} {decision:<5.5} {who:<10.10} {target:<16.16} {reason}"
    return text[:width].rstrip()


def _width() -> int:
    if not sys.stdout.isatty():
        return 80
    return max(40, shutil.get_terminal_size((80, 24)).columns)


def _emit(out: IO[str], raw: bytes, record: dict[str, Any], as_json: bool, width: int) -> None:
    out.write(raw.decode("utf-8", "replace") if as_json else compact(record, width))
    out.write("\n")


def _open(path: str) -> IO[bytes]:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def _segment_lines(path: str) -> Iterator[bytes]:
    """The lines of the rotated-out segments of `path`, oldest first (docs/audit.md, "Rotation")."""
    from mcpwarden.audit.segments import list_segments

    for segment in list_segments(path):
        with open(segment.path, "rb") as f:
            yield from f


def _chain_lines(path: str) -> Iterator[bytes]:
    """Every line of the chain at `path`: its segments, then the file itself."""
    f = _open(path)
    with f:
        yield from _segment_lines(path)
        yield from f


def tail(args: argparse.Namespace) -> int:
    """Last N matching records, then (with --follow) new ones as they are written."""
    if args.lines < 0:
        raise UsageError("-n must be at least 0")
    match = Filter(args)
    width = _width()
    out = sys.stdout
    f = _open(args.file)
    with f:
        lines = itertools.chain(_segment_lines(args.file), f)
        last = [(raw, rec) for raw, rec in _records(lines) if match(rec)][-args.lines :] if args.lines else []
        for raw, rec in last:
            _emit(out, raw, rec, args.json, width)
        out.flush()
        if not args.follow:
            return EXIT_OK
        with contextlib.suppress(KeyboardInterrupt):
            _follow(f, args.file, match, args.json, width, out)
    return EXIT_OK


def _follow(f: IO[bytes], path: str, match: Filter, as_json: bool, width: int, out: IO[str]) -> None:
    """Poll for appended lines; reopen when the file is replaced or truncated."""
    inode = os.fstat(f.fileno()).st_ino
    partial = b""
    while True:
        chunk = f.read()
        if chunk:
            data = partial + chunk
            *lines, partial = data.split(b"\n")
            for raw, rec in _records(iter(lines)):
                if match(rec):
                    _emit(out, raw, rec, as_json, width)
            out.flush()
            continue
        time.sleep(FOLLOW_POLL_S)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        if st.st_ino != inode or st.st_size < f.tell():
            f.close()
            f = open(path, "rb")  # noqa: SIM115 - replaces the handle the loop reads from
            inode = os.fstat(f.fileno()).st_ino
            partial = b""


def search(args: argparse.Namespace) -> int:
    match = Filter(args)
    width = _width()
    shown = 0
    for raw, rec in _records(_chain_lines(args.file)):
        if match(rec):
            _emit(sys.stdout, raw, rec, args.json, width)
            shown += 1
            if args.limit and shown >= args.limit:
                break
    return EXIT_OK


def export(args: argparse.Namespace) -> int:
    match = Filter(args)
    target: IO[str] = (
        open(args.output, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed below
        if args.output
        else sys.stdout
    )
    count = 0
    try:
        writer = (
            csv.DictWriter(target, fieldnames=CSV_COLUMNS, extrasaction="ignore")
            if args.format == "csv"
            else None
        )
        if writer is not None:
            writer.writeheader()
        for raw, rec in _records(_chain_lines(args.file)):
            if not match(rec):
                continue
            if writer is not None:
                writer.writerow({k: _cell(rec.get(k)) for k in CSV_COLUMNS})
            else:
                target.write(raw.decode("utf-8", "replace") + "\n")
            count += 1
    finally:
        if args.output:
            target.close()
    if args.output:
        print(f"exported {count} record(s) to {Path(args.output)}", file=sys.stderr)
    return EXIT_OK


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    # Spreadsheet formula injection: a cell starting with = + - @ is text, not a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_search = actions.add_parser(
        "search", help="print records matching filters", description="Print the records that match."
    )
    p_search.add_argument("file", metavar="FILE")
    p_search.add_argument("--json", action="store_true", help="records as JSON lines")
    p_search.add_argument("--limit", type=int, default=0, help="stop after N matches")
    add_filters(p_search)
    p_search.set_defaults(handler=search)

    p_export = actions.add_parser(
        "export", help="export matching records as JSON lines or CSV", description="Export records."
    )
    p_export.add_argument("file", metavar="FILE")
    p_export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    p_export.add_argument("-o", "--output", help="write here instead of stdout")
    add_filters(p_export)
    p_export.set_defaults(handler=export)
