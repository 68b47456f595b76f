"""Recovering from a torn tail: the half-written last line a crash leaves behind.

Each record reaches the file in one `write` that ends with its newline, so a process killed
mid-write (or a power loss, or a full disk) can leave a last line without a newline and
nothing worse. Refusing to start until someone moves the file by hand turned a routine crash
into an outage, and starting a fresh chain would hide the damage. Instead the torn bytes are
copied, unchanged, to a sibling file (`FILE.torn-<UTC time>`), the log is cut back to its last
complete line, and the writer appends an `audit.recovered` record that names the sibling and
the SHA-256 of what was moved, so the chain goes on and says exactly what happened.

Nothing is ever deleted: the sibling is written and fsynced before the log is shortened, and
a sibling that already exists is never overwritten. Only a tail *without a newline* is
treated this way; a complete last line that fails its hash, or a log shorter than its head
anchor, is tampering and still refuses to open (see `jsonl.py`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

RECOVERED_EVENT: Final = "audit.recovered"
_BLOCK = 1 << 16


@dataclass(frozen=True, slots=True)
class TornTail:
    """What was moved out of the log: where to, how much, and its digest."""

    saved_to: str
    offset: int
    size: int
    sha256: str

    def details(self) -> dict[str, Any]:
        return {
            "torn_saved_to": self.saved_to,
            "torn_offset": self.offset,
            "torn_bytes": self.size,
            "torn_sha256": self.sha256,
        }


def complete_length(path: Path) -> tuple[int, int]:
    """(offset just past the last newline, file size): equal when the tail is intact."""
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        pos = size
        while pos > 0:
            step = min(_BLOCK, pos)
            pos -= step
            f.seek(pos)
            block = f.read(step)
            newline = block.rfind(b"\n")
            if newline >= 0:
                return pos + newline + 1, size
    return 0, size


def move_torn_tail(path: Path, fd: int) -> TornTail | None:
    """Move a last line that lacks its newline to a sibling file and cut the log back.

    `fd` is the writer's descriptor on `path` (held under its exclusive lock). Returns None
    when the tail is intact.
    """
    keep, size = complete_length(path)
    if keep == size:
        return None
    digest = hashlib.sha256()
    target = _sibling(path)
    out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with open(path, "rb") as src:
            src.seek(keep)
            while block := src.read(_BLOCK):
                digest.update(block)
                view = memoryview(block)
                while view:
                    view = view[os.write(out, view) :]
        os.fsync(out)
    finally:
        os.close(out)
    _fsync_dir(path.parent)
    # Only now, with the torn bytes safe in the sibling, is the log shortened.
    os.ftruncate(fd, keep)
    os.fsync(fd)
    return TornTail(str(target), keep, size - keep, digest.hexdigest())


def _sibling(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = path.with_name(f"{path.name}.torn-{stamp}")
    n = 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.torn-{stamp}-{n}")
    return candidate


def _fsync_dir(directory: Path) -> None:
    """Make the sibling's directory entry durable (not possible, nor needed, on Windows)."""
    if os.name == "nt":
        return
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
