"""Has anyone committed to a WAL-mode SQLite file since I last looked? One `pread`, no SQLite call.

Pins, session revocations and the kill switch are cached in the gateway and must be re-read
as soon as another process (the CLI, the admin API of another replica) commits a change:
until now each request asked SQLite with `PRAGMA data_version`, three times per call. In WAL
mode every commit, by any connection of any process, rewrites the header of the WAL-index
(the `-shm` file beside the database: a change counter, the last frame, salts and checksums;
see "WAL-index Format" in SQLite's file-format document). `WalWatch` keeps the header bytes
it saw last; when a new read of them is identical, nothing was committed in between and the
cache is fresh without a SQLite round trip.

It only ever answers "unchanged" when it is sure: any other outcome (header differs, a torn
read while a writer updates it, no `-shm` file because the database is not in WAL mode or is
`:memory:`, the file cannot be read) makes the caller ask SQLite as before. The header is read
*before* the caller's own check, and remembered with its result, so a commit that lands in
between changes the header and is caught next time.
"""

from __future__ import annotations

import os
import threading
import time

HEADER_BYTES = 48  # the first copy of the WAL-index header
RECHECK_S = 1.0  # how often the -shm path is checked to still be the file read


class WalWatch:
    """The WAL-index header of one database file, compared with what the caller saw last."""

    def __init__(self, db_path: str) -> None:
        self._path = f"{db_path}-shm"
        self._fd: int | None = None
        self._inode = 0
        self._checked = 0.0
        self._lock = threading.Lock()
        self._closed = db_path == ":memory:"

    def header(self) -> bytes | None:
        """The current header, or None when it cannot be read (then the caller must ask SQLite)."""
        if self._closed:
            return None
        with self._lock:
            try:
                # Still the file SQLite uses? While the caller's connection is open SQLite keeps
                # it, but a -shm deleted and made again would otherwise be read through a stale
                # descriptor forever; a stat costs more than the read, so at most once a second.
                now = time.monotonic()
                if self._fd is None or now - self._checked >= RECHECK_S:
                    inode = os.stat(self._path).st_ino
                    if self._fd is None or inode != self._inode:
                        self._reopen(inode)
                    self._checked = now
                assert self._fd is not None
                head = os.pread(self._fd, HEADER_BYTES, 0)
            except OSError:
                return None
        if len(head) < HEADER_BYTES or not any(head):
            return None  # not initialized yet (or truncated): no evidence either way
        return head

    def _reopen(self, inode: int) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        fd = os.open(self._path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        if os.fstat(fd).st_ino != inode:  # replaced between stat and open: try next time
            os.close(fd)
            raise OSError("the -shm file was replaced")
        self._fd, self._inode = fd, inode

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
