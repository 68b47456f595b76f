"""Rotated audit files: one hash chain spread over several files ("segments").

A long-running gateway cannot append to one file forever, but starting a new chain per file
would let someone drop a whole file unnoticed. So rotation keeps the chain: the full active
file is renamed to `FILE.<first seq>-<last seq>` (both 12 digits, so names sort in chain
order) and a new file at `FILE` goes on with the same chain id, the next `seq` and, as
`prev`, the hash of the last record of the segment before it. Its first record is an
`audit.rotated` event naming that segment.

Everything that looks records up by `seq` (checkpoints, the pin-store binding, `verify`)
goes through `chain_files` / `records_at` here, so they work the same on a set as on one file.
Nothing in mcpwarden deletes segments: archive them together with the checkpoint file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

ROTATED_EVENT: Final = "audit.rotated"
_DIGITS: Final = 12
SEGMENT_NAME = re.compile(r"\.(\d{12})-(\d{12})$")


@dataclass(frozen=True, slots=True)
class Segment:
    """A rotated-out file of the chain and the seqs its name says it holds."""

    path: Path
    first: int
    last: int


def segment_path(log_path: str | os.PathLike[str], first: int, last: int) -> Path:
    """Where the active file goes when it is rotated out holding records `first`..`last`."""
    log = Path(log_path)
    return log.with_name(f"{log.name}.{first:0{_DIGITS}d}-{last:0{_DIGITS}d}")


def list_segments(log_path: str | os.PathLike[str]) -> list[Segment]:
    """The rotated-out segments of the log at `log_path`, oldest first."""
    log = Path(log_path)
    found: list[Segment] = []
    try:
        names = os.listdir(log.parent if str(log.parent) else ".")
    except FileNotFoundError:
        return []
    for name in names:
        if not name.startswith(log.name + "."):
            continue
        match = SEGMENT_NAME.search(name[len(log.name) :])
        if match is None or match.start() != 0:
            continue
        found.append(Segment(log.with_name(name), int(match.group(1)), int(match.group(2))))
    found.sort(key=lambda s: (s.first, s.last))
    return found


def first_record(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The first line of a file as a record, or None (missing, empty, not a JSON object)."""
    try:
        with open(path, "rb") as f:
            raw = f.readline()
    except FileNotFoundError:
        return None
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def first_seq(path: str | os.PathLike[str]) -> int | None:
    record = first_record(path)
    seq = record.get("seq") if record is not None else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else None


def chain_files(log_path: str | os.PathLike[str]) -> list[Path]:
    """Every file of the chain in order: the segments, then the active file if it exists."""
    files = [s.path for s in list_segments(log_path)]
    if Path(log_path).exists():
        files.append(Path(log_path))
    return files


def _bases(log_path: str | os.PathLike[str]) -> list[tuple[Path, int]]:
    """Each file of the chain with the seq of its first line (from the name, or read)."""
    out = [(s.path, s.first) for s in list_segments(log_path)]
    active = Path(log_path)
    if active.exists():
        out.append((active, first_seq(active) or 1))
    return out


def iter_lines(log_path: str | os.PathLike[str]) -> Iterator[tuple[int, bytes]]:
    """(seq by position, raw line) over the whole chain, segment by segment."""
    for path, base in _bases(log_path):
        with open(path, "rb") as f:
            for offset, raw in enumerate(f):
                yield base + offset, raw


def records_at(log_path: str | os.PathLike[str], wanted: set[int]) -> tuple[dict[int, dict[str, Any]], int]:
    """The records at the `wanted` seqs (by position) and the last seq of the chain.

    Segments that cannot hold a wanted seq (by their names) are not read; the active file
    always is, to count its records.
    """
    found: dict[int, dict[str, Any]] = {}
    last = 0
    bases = _bases(log_path)
    for i, (path, base) in enumerate(bases):
        end = bases[i + 1][1] - 1 if i + 1 < len(bases) else None
        if end is not None and not any(base <= seq <= end for seq in wanted):
            last = end
            continue
        with open(path, "rb") as f:
            count = 0
            for count, raw in enumerate(f, 1):
                seq = base + count - 1
                if seq in wanted:
                    try:
                        record = orjson.loads(raw)
                    except orjson.JSONDecodeError:
                        continue
                    if isinstance(record, dict):
                        found[seq] = record
            last = base + count - 1
    return found, last


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in `path`'s directory survive a power loss (POSIX only)."""
    if os.name != "posix":
        return
    fd = os.open(path.parent if str(path.parent) else ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
