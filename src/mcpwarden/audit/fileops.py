"""Low-level file steps of the audit writer: open-and-lock, complete writes, moving aside."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mcpwarden.audit.resume import AuditChainError


def open_for_append(path: Path) -> int:
    """An `O_APPEND` descriptor on `path` (created 0600), locked against a second writer."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o600)
    try:
        lock_exclusively(fd, path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_all(fd: int, data: bytes) -> None:
    """One `write` almost always suffices; loop for the rare short write (e.g. a signal)."""
    written = os.write(fd, data)
    if written == len(data):
        return
    view = memoryview(data)[written:]
    while view:
        written = os.write(fd, view)
        view = view[written:]


def move_aside(path: Path, stamp: str) -> Path:
    """Rename `path` to `PATH.replaced-<stamp>` (never over an existing file)."""
    target = path.with_name(f"{path.name}.replaced-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.replaced-{stamp}-{n}")
    os.rename(path, target)
    return target


def lock_exclusively(fd: int, path: Path) -> None:
    """Refuse a second writer: two processes appending to one file would fork the chain."""
    if sys.platform == "win32":
        return
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise AuditChainError(f"{path} is already open for writing by another process") from None
