"""Where an existing audit file's chain goes on: checked before anything is appended.

The last complete line must be intact (valid JSON matching its own hash), its `seq` must
equal its line number, and the head anchor must be for the same chain and not name a
record past the end. Anything else is refused with `AuditChainError`, and the file is left
exactly as it was: restarting the gateway must not be a way to paper over a truncated or
edited log. A torn last line (no newline) is reported to the caller, who moves it aside
(`recovery.py`) only after these checks passed.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from mcpwarden.audit.chain import genesis, new_chain_id, record_hash
from mcpwarden.audit.head import HeadError, read_head
from mcpwarden.audit.tailread import last_lines


class AuditChainError(RuntimeError):
    """The existing audit file cannot be continued safely (damaged tail, foreign anchor, in use)."""


def resume(path: Path) -> tuple[str, int, str, bool]:
    """Chain id, last seq and last hash to continue from (a new chain for an empty file),
    and whether a torn last line (no newline) follows the last complete record."""
    try:
        anchor = read_head(path)
    except HeadError as exc:
        raise AuditChainError(f"cannot continue {path}: {exc}") from None
    with open(path, "rb") as f:
        tail = last_lines(f, 2)
    torn = bool(tail) and not tail[-1].endswith(b"\n")
    tail = tail[:-1][-1:] if torn else tail[-1:]
    if not tail:
        if anchor is not None:
            raise AuditChainError(
                f"cannot continue {path}: the file is empty but its head anchor records "
                f"seq {anchor.seq}; the log was truncated"
            )
        fresh = new_chain_id()
        return fresh, 0, genesis(fresh), torn
    last = tail[0]
    where = f"cannot continue {path}: its last line"
    try:
        record = orjson.loads(last)
    except orjson.JSONDecodeError:
        raise AuditChainError(f"{where} is not valid JSON") from None
    if not isinstance(record, dict):
        raise AuditChainError(f"{where} is not a JSON object")
    chain, seq, digest = record.get("chain"), record.get("seq"), record.get("hash")
    if not isinstance(chain, str) or not isinstance(seq, int) or not isinstance(digest, str):
        raise AuditChainError(f"{where} lacks chain, seq or hash")
    if record_hash(record) != digest:
        raise AuditChainError(f"{where} does not match its hash (edited)")
    lines = _count_lines(path)
    if seq != lines:
        raise AuditChainError(f"{where} has seq {seq} but is line {lines} (lines removed or added)")
    if anchor is not None:
        if anchor.chain != chain:
            raise AuditChainError(f"cannot continue {path}: its head anchor is for another chain")
        if anchor.seq > seq or (anchor.seq == seq and anchor.hash != digest):
            raise AuditChainError(
                f"cannot continue {path}: its head anchor records seq {anchor.seq} "
                f"that the file no longer ends with (truncated or rewritten)"
            )
    return chain, seq, digest, torn


def _count_lines(path: Path) -> int:
    """Newlines in the file: a full scan, done once when an existing log is reopened."""
    count = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            count += block.count(b"\n")
    return count
