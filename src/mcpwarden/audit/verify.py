"""Checking an audit file: every record sealed, in order, from its genesis to its anchor.

`verify` streams the file once and stops at the first line that fails, naming it and the
reason. What each kind of tampering looks like:

- a field edited: that line's `hash` no longer matches its content;
- a line removed, inserted (even with a correctly recomputed `hash`) or moved: the first
  line whose position changed has the wrong `seq`, or its `prev` is not the hash of the
  line before it;
- the first line(s) removed: line 1 holds a `seq` other than 1;
- the last whole line(s) removed: the chain is intact but ends before the record named in
  the head anchor `FILE.head`;
- the file cut mid-line: the last line has no newline;
- the whole chain rewritten with recomputed hashes: the record at the anchor's `seq` no
  longer has the anchor's hash (or the chain id differs).

Without a head anchor, removing whole lines from the end is not detectable; `require_head`
turns a missing anchor into a failure.

A torn tail the writer recovered from (see `recovery.py`) is no longer in the file; the
`audit.recovered` record that chains on in its place is counted and reported, so a reader
knows where to find the moved bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from mcpwarden.audit.chain import genesis, record_hash
from mcpwarden.audit.head import HeadAnchor, HeadError, head_path, read_head
from mcpwarden.audit.recovery import RECOVERED_EVENT
from mcpwarden.audit.segments import ROTATED_EVENT, chain_files
from mcpwarden.audit.segments import SEGMENT_NAME as _SEGMENT_NAME


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of `verify`. `bad_line` is 1-based; None when ok or when only the anchor is bad."""

    path: str
    ok: bool
    records: int
    chain: str | None = None
    last_hash: str | None = None
    bad_line: int | None = None
    reason: str | None = None
    anchor: HeadAnchor | None = None
    # (seq, file the torn bytes were moved to) of each `audit.recovered` record.
    recoveries: tuple[tuple[int, str], ...] = ()
    # How many files the chain spans (rotated segments plus the active file).
    segments: int = 1

    def summary(self) -> str:
        """One line for humans and CI logs."""
        if not self.ok:
            where = f"line {self.bad_line}" if self.bad_line is not None else "head anchor"
            return f"{self.path}: TAMPERED at {where}: {self.reason}"
        if self.records == 0:
            return f"{self.path}: ok, empty log"
        anchored = (
            f"anchored at seq {self.anchor.seq}"
            if self.anchor is not None
            else "no head anchor, so removal of lines at the end cannot be detected"
        )
        recovered = "".join(
            f"; recovered from a torn tail at seq {seq} (moved to {where})" for seq, where in self.recoveries
        )
        files = f" in {self.segments} files" if self.segments > 1 else ""
        return (
            f"{self.path}: ok, {self.records} records{files}, chain {self.chain}, "
            f"last hash {(self.last_hash or '')[:16]}…, {anchored}{recovered}"
        )


class _Bad(Exception):
    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def verify(path: str | os.PathLike[str], *, require_head: bool = False) -> VerifyResult:
    """Check the chain and the head anchor of the audit file at `path`, with its rotated
    segments (`FILE.<first>-<last>`, oldest first) when there are any.

    Raises `OSError` when the file cannot be read at all; any content problem is reported
    in the result instead.
    """
    name = os.fspath(path)
    files = chain_files(path)
    if not files:
        open(path, "rb").close()  # raises the OSError that says why there is nothing to read
    state = _Walk()
    try:
        anchor = read_head(path)
    except HeadError as exc:
        return VerifyResult(name, False, 0, reason=str(exc))
    if anchor is None and require_head:
        return VerifyResult(name, False, 0, reason=f"{head_path(path)} is missing")
    where = name
    try:
        for index, file in enumerate(files):
            where = os.fspath(file)
            state.start_file(index, file)
            with open(file, "rb") as f:
                for lineno, raw in enumerate(f, start=1):
                    state.check(lineno, raw, anchor)
            state.end_file(file)
        where = name
        state.check_end(anchor)
    except _Bad as bad:
        return VerifyResult(
            where, False, state.records, state.chain, state.prev, bad.line, bad.reason, anchor,
            segments=len(files),
        )  # fmt: skip
    return VerifyResult(
        name,
        True,
        state.records,
        state.chain,
        state.prev,
        anchor=anchor,
        recoveries=tuple(state.recoveries),
        segments=len(files),
    )


class _Walk:
    """The running state of one pass over the chain, file after file."""

    def __init__(self) -> None:
        self.records = 0
        self.chain: str | None = None
        self.prev: str | None = None
        self.recoveries: list[tuple[int, str]] = []
        self._file_first: int | None = None
        self._continuing = False

    def start_file(self, index: int, file: Path) -> None:
        # Every file after the first must open with the record that continues the chain.
        self._continuing = index > 0
        self._file_first = None

    def end_file(self, file: Path) -> None:
        named = _SEGMENT_NAME.search(file.name)
        if named is None:
            return
        first, last = int(named.group(1)), int(named.group(2))
        if (self._file_first, self.records) != (first, last):
            raise _Bad(
                None,
                f"the segment holds seqs {self._file_first}..{self.records} but its name says "
                f"{first}..{last}: segments were renamed, emptied or mixed up",
            )

    def check(self, lineno: int, raw: bytes, anchor: HeadAnchor | None) -> None:
        if not raw.endswith(b"\n"):
            raise _Bad(lineno, "the last line is incomplete (no newline): the file was cut mid-line")
        record = _parse(lineno, raw)
        digest = record.get("hash")
        if not isinstance(digest, str):
            raise _Bad(lineno, "the record has no hash")
        if record_hash(record) != digest:
            raise _Bad(lineno, "the record does not match its hash: it was edited")
        seq = record.get("seq")
        expected = self.records + 1
        if seq != expected:
            raise _Bad(lineno, _misplaced(lineno, expected, seq, record))
        if lineno == 1:
            self._file_first = seq
            if self._continuing and record.get("event") != ROTATED_EVENT:
                raise _Bad(1, f"seq {seq} does not start a rotated file: a segment before it is missing")
        chain = record.get("chain")
        if not isinstance(chain, str):
            raise _Bad(lineno, "the record has no chain id")
        if seq == 1:
            if anchor is not None and anchor.chain != chain:
                raise _Bad(1, "the chain id differs from the head anchor's: the file was replaced")
            if record.get("prev") != genesis(chain):
                raise _Bad(1, "prev is not the genesis value of its chain: the first line was replaced")
            self.chain = chain
        else:
            if chain != self.chain:
                raise _Bad(lineno, "the record belongs to another chain: it was spliced in")
            if record.get("prev") != self.prev:
                raise _Bad(
                    lineno,
                    f"prev is not the hash of seq {expected - 1}: a line was removed, inserted or moved",
                )
        if anchor is not None and seq == anchor.seq and digest != anchor.hash:
            raise _Bad(
                lineno,
                "the record differs from the one the head anchor recorded: the chain was rewritten",
            )
        if record.get("event") == RECOVERED_EVENT:
            details = record.get("details")
            saved = details.get("torn_saved_to") if isinstance(details, dict) else None
            self.recoveries.append((expected, str(saved)))
        self.records = expected
        self.prev = digest

    def check_end(self, anchor: HeadAnchor | None) -> None:
        if anchor is not None and anchor.seq > self.records:
            missing = anchor.seq - self.records
            raise _Bad(
                self.records + 1,
                f"the log ends at seq {self.records} but its head anchor records seq {anchor.seq}: "
                f"{missing} line(s) were removed from the end",
            )


def _parse(lineno: int, raw: bytes) -> dict[str, Any]:
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _Bad(lineno, "the line is not valid JSON") from None
    if not isinstance(record, dict):
        raise _Bad(lineno, "the line is not a JSON object")
    return record


def _misplaced(lineno: int, expected: int, seq: Any, record: dict[str, Any]) -> str:
    if not isinstance(seq, int) or isinstance(seq, bool):
        return "the record has no integer seq"
    if expected == 1 and record.get("event") == ROTATED_EVENT:
        details = record.get("details")
        segment = details.get("previous_segment") if isinstance(details, dict) else None
        return (
            f"line 1 holds seq {seq}, continuing the chain from segment {segment}, "
            f"which is missing: seqs 1..{seq - 1} cannot be checked"
        )
    if expected == 1 and seq > 1:
        return f"line 1 holds seq {seq}: the first {seq - 1} line(s) were removed"
    if seq > expected:
        return f"line {lineno} holds seq {seq}: {seq - expected} line(s) before it were removed or moved"
    return f"line {lineno} holds seq {seq}: a line was inserted or moved above it"
