"""`mcpwarden audit verify|tail|search|export|keygen|rebind`: check and read hash-chained audit files.

`verify` exits 0 when the file is intact, 1 when it was tampered with (naming the first
bad line), and 2 when it cannot be read; CI and cron jobs depend on those codes.
`rebind` ends an integrity alarm (see `mcpwarden.audit.binding`) once someone has looked.
"""

from __future__ import annotations

import argparse
import getpass
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from mcpwarden.cli import EXIT_FINDINGS, EXIT_OK, UsageError
from mcpwarden.commands import audit_query

# The verifier, checkpoint signatures (cryptography) and rich are imported by the actions
# that use them, so that `mcpwarden audit --help` starts fast (see bench/cli_startup.py).
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from rich.text import Text


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
    p_verify.add_argument(
        "--key",
        metavar="PUB",
        help="Ed25519 public key (PEM): also check the signed checkpoints in FILE.checkpoints "
        "(of every FILE: replicas may share one key; each checkpoint names its replica)",
    )
    p_verify.set_defaults(handler=_verify)

    p_keygen = actions.add_parser(
        "keygen",
        help="create an Ed25519 key pair for signed checkpoints",
        description="Write PRIVATE (mode 600) and PRIVATE.pub; point audit.checkpoint.key at PRIVATE.",
    )
    p_keygen.add_argument("private", metavar="PRIVATE")
    p_keygen.set_defaults(handler=_keygen)

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
    audit_query.add_filters(p_tail)
    p_tail.set_defaults(handler=_tail)
    audit_query.register(actions)

    p_rebind = actions.add_parser(
        "rebind",
        help="after investigating an integrity alarm, trust the pin store and audit file again",
        description="Clear the pin store's integrity alarm and accept its current pins as the "
        "baseline; the gateway records who did it in the audit trail at its next check.",
    )
    where = p_rebind.add_mutually_exclusive_group()
    where.add_argument("-c", "--config", help="gateway config file: use its store path")
    where.add_argument(
        "--store", metavar="PATH", help=f"SQLite store (default: $MCPWARDEN_STORE or {DEFAULT_STORE})"
    )
    p_rebind.add_argument("--by", default=None, help="who accepts, for the audit trail (default: $USER)")
    p_rebind.set_defaults(handler=_rebind)


def _missing_action(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        raise UsageError(
            f"choose an action: verify, tail, search, export, keygen or rebind (see `{parser.prog} --help`)"
        )

    return handler


def _public_key(args: argparse.Namespace) -> Ed25519PublicKey | None:
    """The `--key` public key, or None without one."""
    if not args.key:
        return None
    from mcpwarden.audit.checkpoint import CheckpointError, load_public_key

    try:
        return load_public_key(Path(args.key).read_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read {args.key}: {exc.strerror or exc}") from None
    except CheckpointError as exc:
        raise UsageError(f"{args.key}: {exc}") from None


def _verify(args: argparse.Namespace) -> int:
    from mcpwarden.audit import verify
    from mcpwarden.audit.chains import declares_workers

    # One worker's chain alone is an incomplete set: verify it as one, which names the rest.
    if len(args.file) > 1 or _quietly(declares_workers, args.file[0]):
        return _verify_set(args)
    (path,) = args.file
    public = _public_key(args)
    try:
        result = verify(path, require_head=args.require_head)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    print(result.summary())
    if public is None:
        return EXIT_OK if result.ok else EXIT_FINDINGS
    from mcpwarden.audit.checkpoint import verify_checkpoints

    signed = verify_checkpoints(path, public)
    print(signed.summary())
    return EXIT_OK if result.ok and signed.ok else EXIT_FINDINGS


def _quietly(check: Any, path: str) -> bool:
    """`check(path)`, False when the file cannot be read (the single-file path reports that)."""
    try:
        return bool(check(path))
    except OSError:
        return False


def _verify_set(args: argparse.Namespace) -> int:
    """Several replicas' files: each chain, then the set (see mcpwarden.audit.chains)."""
    from mcpwarden.audit.chains import verify_set

    public = _public_key(args)
    try:
        result = verify_set(args.file, require_head=args.require_head, public=public)
    except OSError as exc:
        raise UsageError(f"cannot read {exc.filename}: {exc.strerror or exc}") from None
    print(result.summary())
    return EXIT_OK if result.ok else EXIT_FINDINGS


def _keygen(args: argparse.Namespace) -> int:
    from mcpwarden.audit.checkpoint import generate_keypair

    private, public = generate_keypair()
    path = Path(args.private)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(f"{path} exists; not overwriting a key") from None
    with os.fdopen(fd, "wb") as f:
        f.write(private)
    Path(f"{path}.pub").write_bytes(public)
    print(f"wrote {path} (private, keep it off the audit host's writable paths) and {path}.pub")
    return EXIT_OK


def _filtered(args: argparse.Namespace) -> bool:
    keys = ("since", "until", "principal", "upstream", "tool", "decision", "event", "session")
    return any(getattr(args, k) is not None for k in keys)


DEFAULT_STORE = "var/mcpwarden.sqlite3"


def _rebind(args: argparse.Namespace) -> int:
    from mcpwarden.config import ConfigError, load_config
    from mcpwarden.store import SQLiteStore

    if args.config:
        try:
            path = load_config(args.config).store.path
        except ConfigError as exc:
            raise UsageError(str(exc)) from exc
    else:
        path = str(args.store or os.environ.get("MCPWARDEN_STORE") or DEFAULT_STORE)
    if not os.path.exists(path):
        raise UsageError(f"no store at {path}")
    store = SQLiteStore(path)
    try:
        alarm = store.alarm()
        store.rebind(args.by or _user())
    finally:
        store.close()
    print(f"{path}: rebound" + (f" (the alarm was: {alarm})" if alarm else " (no alarm was raised)"))
    return EXIT_OK


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


_DECISION_STYLES = {"deny": "bold red", "alert": "yellow", "rewrite": "cyan", "pass": "green"}


def _tail(args: argparse.Namespace) -> int:
    """One line per record, fitted to the terminal (80 columns stay readable); --json prints
    the records as they are; --follow keeps reading what the gateway appends."""
    import io
    import shutil
    import sys
    import time

    from rich.console import Console

    from mcpwarden.audit.tailread import last_lines

    if _filtered(args):
        # Filters need the whole file (the last N *matching* records): see audit_query.
        return audit_query.tail(args)
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
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _line(row: tuple[str | Text, ...], width: int) -> Text:
    """seq, time of day, event, target, decision and latency on one line of at most `width`
    columns; session and principal only when there is room. The target keeps at least 24
    columns; the decision's reason is cut before it."""
    from rich.text import Text

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
    from rich.text import Text

    if len(text) <= width:
        return text
    if width <= 1:
        return Text("")
    cut = text[: width - 1]
    cut.append("…")
    return cut


def _row(raw: bytes) -> tuple[str | Text, ...]:
    """One table row; a line that is not a record is shown as such rather than hidden."""
    from rich.text import Text

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
