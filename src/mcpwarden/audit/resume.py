"""Where an existing audit file's chain goes on: checked before anything is appended.

The last complete line must be intact (valid JSON matching its own hash), its `seq` must
equal its position in the chain (line number, plus the first seq of the file when the file
continues a rotated chain), and the head anchor must be for the same chain and not name a
record past the end. Anything else is refused with `AuditChainError`, and the file is left
exactly as it was: restarting the gateway must not be a way to paper over a truncated or
edited log. A torn last line (no newline) is reported to the caller, who moves it aside
(`recovery.py`) only after these checks passed.

An empty (or missing) active file next to rotated segments is a rotation cut short by a
crash between the rename and the first record of the new file: the chain goes on from the
last segment, under the same checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from mcpwarden.audit.chain import genesis, new_chain_id, record_hash
from mcpwarden.audit.head import HeadAnchor, HeadError, read_head
from mcpwarden.audit.segments import ROTATED_EVENT, first_record, list_segments
from mcpwarden.audit.tailread import last_lines


class AuditChainError(RuntimeError):
    """The existing audit file cannot be continued safely (damaged tail, foreign anchor, in use)."""


@dataclass(frozen=True, slots=True)
class Resumed:
    """Where to go on: the chain, its last seq and hash, the first seq in the active file, and
    whether a torn line follows (`torn`) or the chain goes on from a segment (`continues`)."""

    chain: str
    seq: int
    prev: str
    base: int
    torn: bool = False
    continues: Path | None = None


def resume(path: Path, *, from_segments: bool = True) -> Resumed:
    """Check the end of the chain at `path` and say where new records go on.

    `from_segments=False` starts a fresh chain in an empty file even when segments exist
    (after the active file was deleted or replaced while running).
    """
    try:
        anchor = read_head(path)
    except HeadError as exc:
        raise AuditChainError(f"cannot continue {path}: {exc}") from None
    with open(path, "rb") as f:
        tail = last_lines(f, 2)
    torn = bool(tail) and not tail[-1].endswith(b"\n")
    tail = tail[:-1][-1:] if torn else tail[-1:]
    if not tail:
        segments = list_segments(path) if from_segments else []
        if segments:
            return _from_segment(path, segments[-1].path, anchor, torn)
        if anchor is not None and from_segments:
            raise AuditChainError(
                f"cannot continue {path}: the file is empty but its head anchor records "
                f"seq {anchor.seq}; the log was truncated"
            )
        fresh = new_chain_id()
        return Resumed(fresh, 0, genesis(fresh), 1, torn)
    chain, seq, digest = _check_last(path, tail[0])
    first = first_record(path)
    base = first["seq"] if first is not None and first.get("event") == ROTATED_EVENT else 1
    lines = _count_lines(path)
    if not isinstance(base, int) or seq != base + lines - 1:
        raise AuditChainError(
            f"cannot continue {path}: its last line has seq {seq} but is line {lines} of a file "
            f"starting at seq {base} (lines removed or added)"
        )
    _check_anchor(path, anchor, chain, seq, digest)
    return Resumed(chain, seq, digest, base, torn)


def _from_segment(path: Path, segment: Path, anchor: HeadAnchor | None, torn: bool) -> Resumed:
    with open(segment, "rb") as f:
        tail = last_lines(f, 1)
    if not tail or not tail[-1].endswith(b"\n"):
        raise AuditChainError(f"cannot continue {path}: the last line of segment {segment} is missing or cut")
    chain, seq, digest = _check_last(segment, tail[0])
    _check_anchor(path, anchor, chain, seq, digest)
    return Resumed(chain, seq, digest, seq + 1, torn, continues=segment)


def _check_last(path: Path, last: bytes) -> tuple[str, int, str]:
    where = f"cannot continue {path}: its last line"
    try:
        record: Any = orjson.loads(last)
    except orjson.JSONDecodeError:
        raise AuditChainError(f"{where} is not valid JSON") from None
    if not isinstance(record, dict):
        raise AuditChainError(f"{where} is not a JSON object")
    chain, seq, digest = record.get("chain"), record.get("seq"), record.get("hash")
    if not isinstance(chain, str) or not isinstance(seq, int) or not isinstance(digest, str):
        raise AuditChainError(f"{where} lacks chain, seq or hash")
    if record_hash(record) != digest:
        raise AuditChainError(f"{where} does not match its hash (edited)")
    return chain, seq, digest


def _check_anchor(path: Path, anchor: HeadAnchor | None, chain: str, seq: int, digest: str) -> None:
    if anchor is None:
        return
    if anchor.chain != chain:
        raise AuditChainError(f"cannot continue {path}: its head anchor is for another chain")
    if anchor.seq > seq or (anchor.seq == seq and anchor.hash != digest):
        raise AuditChainError(
            f"cannot continue {path}: its head anchor records seq {anchor.seq} "
            f"that the file no longer ends with (truncated or rewritten)"
        )


def _count_lines(path: Path) -> int:
    """Newlines in the file: a full scan, done once when an existing log is reopened."""
    count = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            count += block.count(b"\n")
    return count
