"""The JSONL file sink: an append-only, hash-chained audit file.

Writing must stay cheap because the gateway calls it from its event loop for every
message: a record is serialized, hashed and handed to the kernel with one `write` on an
`O_APPEND` descriptor (so a crash of the process loses nothing already written), under a
lock held only for that. Durability is a separate, configurable step:

- `always`: `write` returns only after an fsync covering the record (concurrent writers
  share one fsync). Blocks the caller; meant for low-volume, high-assurance deployments.
- `interval`: a background thread fsyncs at most every `fsync_interval_s` seconds when
  something new was written. A power loss can lose up to that much; the loop never waits.
- `never`: the OS decides when to flush; fsync only on `close`.

Each sync also refreshes the head anchor (`FILE.head`, see `head.py`).

Re-opening an existing file continues its chain. A last line cut short by a crash (no
newline) is moved to a sibling file and recorded by an `audit.recovered` record
(`recovery.py`). Then the last line is checked (hash intact, `seq` equal to its line
number, consistent with the head anchor); if it is not, the log refuses to open
(`AuditChainError`) rather than chain new records onto a record nobody can vouch for.
Failing closed is deliberate: silently starting over would let someone hide a truncation
or an edit by restarting the gateway.

A write that fails (disk full, file-size limit, I/O error) is undone: the file is cut back
to the end of the last good record, so the chain stays verifiable, and the caller gets
`AuditUnavailable`, which the gateway turns into a refusal of the call it could not audit.
The next write that succeeds is preceded by an `audit.resumed` alert that says how long the
log was unwritable and how many records were refused, so service resumes by itself once
space returns.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from mcpwarden.audit import notices
from mcpwarden.audit.canonical import to_plain_json
from mcpwarden.audit.chain import seal
from mcpwarden.audit.events import AuditEvent, event_fields
from mcpwarden.audit.fileops import move_aside, open_for_append, write_all
from mcpwarden.audit.head import HeadAnchor, head_path, write_head
from mcpwarden.audit.notices import RESUMED_EVENT as RESUMED_EVENT
from mcpwarden.audit.notices import utc_timestamp as utc_timestamp
from mcpwarden.audit.recovery import TornTail, move_torn_tail
from mcpwarden.audit.resume import AuditChainError as AuditChainError
from mcpwarden.audit.resume import resume
from mcpwarden.audit.rotation import RotationPolicy
from mcpwarden.audit.segments import fsync_dir, list_segments, segment_path

_log = logging.getLogger(__name__)

FsyncPolicy = Literal["always", "interval", "never"]
_POLICIES: frozenset[str] = frozenset({"always", "interval", "never"})


class AuditUnavailable(RuntimeError):
    """A record could not be written (disk full, I/O error); the log itself is still intact.

    The failed write was undone, so a later write continues the chain once the cause is gone.
    """

    reason = "audit.unavailable"


class AuditLog:
    """Append-only, hash-chained JSONL audit file. Implements `AuditSink`.

    Safe to call from several threads and from an asyncio loop; `write` never awaits and,
    except under the `always` policy, never waits for the disk.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        fsync: FsyncPolicy = "interval",
        fsync_interval_s: float = 1.0,
        include_raw_arguments: bool = False,
        replica: str | None = None,
        rotation: RotationPolicy | None = None,
    ) -> None:
        if fsync not in _POLICIES:
            raise ValueError(f"fsync must be one of always, interval, never; got {fsync!r}")
        if fsync_interval_s <= 0:
            raise ValueError("fsync_interval_s must be positive")
        self.path = Path(path)
        self.fsync_policy: FsyncPolicy = fsync
        self.fsync_interval_s = fsync_interval_s
        self.include_raw_arguments = include_raw_arguments
        # Stamped on every record, so chains from several replicas stay attributable.
        self.replica = replica
        self.rotation = rotation if rotation is not None and rotation.enabled else None

        self._lock = threading.Lock()  # guards seq/prev and the write itself
        self._sync_lock = threading.Lock()  # one fsync + anchor update at a time
        self._closed = False
        self._failed: str | None = None
        self._synced_seq = 0
        # The current write outage: when it began, the first error, how many records it cost.
        self._outage: tuple[str, str, int] | None = None
        self.recovered: TornTail | None = None
        self._fd = -1
        self._chain = ""
        self._seq = 0
        self._prev = ""
        self._end = 0
        self._identity: tuple[int, int] = (0, 0)
        self._continuation: dict[str, Any] | None = None
        # Records the log writes about itself (rotated, resumed, recovered, replaced), waiting
        # to be handed to `on_notice` outside the locks; the fan-out sets it, so observers
        # and sinks see them like any other record.
        self._notices: list[dict[str, Any]] = []
        self.on_notice: Callable[[dict[str, Any]], None] | None = None
        self._base = 1  # seq of the active file's first record (> 1 once rotated)
        self._opened_at = 0.0
        # Bumped when the file was found deleted or replaced and a new chain started.
        self.replacements = 0

        self._open()
        self._synced_seq = self._seq

        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None
        if fsync == "interval":
            self._flusher = threading.Thread(
                target=self._flush_periodically, name=f"audit-fsync:{self.path.name}", daemon=True
            )
            self._flusher.start()

    # -- public API ---------------------------------------------------------------------

    @property
    def chain(self) -> str:
        return self._chain

    @property
    def seq(self) -> int:
        """The `seq` of the last record written (0 for an empty log)."""
        return self._seq

    def write(self, event: AuditEvent | dict[str, Any]) -> dict[str, Any]:
        """Append one record and return it as written (with time, seq, prev and hash).

        Raises `AuditUnavailable` when the record could not be written; nothing of it is
        left in the file.
        """
        fields = event_fields(
            event, include_raw_arguments=self.include_raw_arguments, replica=self.replica, now=utc_timestamp
        )
        record = to_plain_json(fields)
        if self.rotation is not None and self._rotation_due():
            self.rotate(only_if_due=True)
        with self._lock:
            if self._closed:
                raise ValueError("write to a closed AuditLog")
            if self._failed is not None:
                raise AuditChainError(
                    f"{self.path}: an earlier write failed and could not be undone ({self._failed})"
                )
            if self._outage is not None:
                self._notices.append(self._end_outage())
            record = self._append(record)
        if self.fsync_policy == "always":
            try:
                self._sync_through(record["seq"], durable=True)
            except OSError as exc:
                raise AuditUnavailable(
                    f"{self.path}: record {record['seq']} written but not made durable: {exc.strerror or exc}"
                ) from exc
        if self._notices:
            self.deliver_notices()
        return record

    def deliver_notices(self) -> None:
        """Hand the log's own records to `on_notice` (outside the locks: it may write)."""
        while self._notices and self.on_notice is not None:
            try:
                record = self._notices.pop(0)
            except IndexError:  # another thread took the last one
                return
            self.on_notice(record)

    @property
    def available(self) -> bool:
        """False while writes fail (disk full); the next successful write makes it True again."""
        return self._outage is None and self._failed is None

    def _append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Seal and write one record under `_lock`; undo a partial write and report it."""
        seq = self._seq + 1
        record["chain"] = self._chain
        record["seq"] = seq
        record["prev"] = self._prev
        record, line = seal(record)
        try:
            write_all(self._fd, line)
        except OSError as exc:
            self._undo(exc)
        self._end += len(line)
        self._seq = seq
        self._prev = record["hash"]
        return record

    def _undo(self, exc: OSError) -> None:
        """Cut a partial line back off and raise `AuditUnavailable` (or stop for good if we can't)."""
        error = exc.strerror or str(exc)
        try:
            os.ftruncate(self._fd, self._end)
        except OSError as again:
            # Part of a line stays in the file; appending after it would bury a broken record
            # mid-file, so stop here and let reopening deal with the torn tail.
            self._failed = f"{error}; undoing it failed too: {again.strerror or again}"
            _log.error("audit log %s: write failed and could not be undone: %s", self.path, self._failed)
            raise AuditChainError(
                f"{self.path}: a write failed and could not be undone: {self._failed}"
            ) from exc
        if self._outage is None:
            self._outage = (utc_timestamp(), error, 1)
            _log.error(
                "audit log %s cannot be written (%s); records are refused until it can be", self.path, error
            )
        else:
            since, first, count = self._outage
            self._outage = (since, first, count + 1)
        raise AuditUnavailable(f"audit log {self.path} cannot be written: {error}") from exc

    def _end_outage(self) -> dict[str, Any]:
        """Before the first record after an outage: an alert saying what was lost, and when."""
        assert self._outage is not None
        since, error, refused = self._outage
        record = self._append(notices.resumed(since, error, refused))
        self._outage = None
        _log.warning("audit log %s is writable again after %d refused record(s)", self.path, refused)
        return record

    async def awrite(self, event: AuditEvent | dict[str, Any]) -> dict[str, Any]:
        """`write` for coroutines: under `always`, the fsync wait moves to a worker thread."""
        if self.fsync_policy == "always":
            # Imported here: `audit verify` and the other light commands load this module
            # and must not pay asyncio's import (with ssl and socket) at start-up.
            import asyncio

            return await asyncio.to_thread(self.write, event)
        return self.write(event)

    def flush(self) -> None:
        """Make everything written so far durable (per policy) and refresh the anchor now."""
        self._sync_through(self._seq, durable=self.fsync_policy != "never")

    def close(self) -> None:
        """Stop the background flusher, fsync, write the final anchor and release the file."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join()
        try:
            self._sync_through(self._seq, durable=True, force=True)
        finally:
            os.close(self._fd)

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def replaced(self) -> str | None:
        """`deleted` or `replaced` when the path no longer names the file this log writes to.

        Records written after that would go to an unlinked file nobody can read; the gateway
        checks this about once a second and calls `reopen_replaced`.
        """
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return "deleted"
        return None if (st.st_dev, st.st_ino) == self._identity else "replaced"

    def reopen_replaced(self) -> dict[str, Any] | None:
        """Start a new file at the path after the old one was deleted or replaced.

        A file someone put in its place, and the old head anchor, are moved aside (never
        deleted); the new chain's first record is an `audit.replaced` alert naming the old
        chain and its last record, so the two files can be joined by an investigator.
        Returns that record, or None when the file is still in place.
        """
        what = self.replaced()
        if what is None:
            return None
        with self._sync_lock, self._lock:
            old = {"previous_chain": self._chain, "previous_seq": self._seq, "previous_hash": self._prev}
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            # The old chain's rotated segments go aside too: the new chain at the path starts
            # at seq 1 and must not be read as their continuation.
            old_files = [self.path, head_path(self.path), *(s.path for s in list_segments(self.path))]
            moved = [str(move_aside(p, stamp)) for p in old_files if p.exists()]
            self._open(from_segments=False)
            self._synced_seq = 0
            self.replacements += 1
            _log.error("audit log %s was %s while in use; a new chain starts", self.path, what)
            record = self._append(notices.replaced(what, old, moved))
            self._notices.append(record)
        self.deliver_notices()
        return record

    # -- internals ----------------------------------------------------------------------

    def _rotation_due(self) -> bool:
        assert self.rotation is not None
        return self.rotation.due(self._end, self._opened_at, self._seq - self._base + 1)

    def rotate(self, *, only_if_due: bool = False) -> dict[str, Any] | None:
        """Move the active file to its segment name and go on in a new file at the path.

        The chain goes on unbroken: the new file's first record is an `audit.rotated` event
        with the next seq, whose `prev` is the hash of the segment's last record. The old
        file is fsynced and the renames made durable first, so a power loss leaves either
        the old layout or the new one. Returns that record (None if the file had no record
        of its own yet). Runs under both locks: no write or sync sees a half-rotated log.
        """
        with self._sync_lock, self._lock:
            if self._closed or self._seq < self._base:
                return None
            if only_if_due and not self._rotation_due():
                return None  # another thread rotated first
            os.fsync(self._fd)
            segment = segment_path(self.path, self._base, self._seq)
            if segment.exists():
                raise AuditChainError(f"cannot rotate {self.path}: {segment} already exists")
            os.rename(self.path, segment)
            os.close(self._fd)
            self._open()
            fsync_dir(self.path)
            continuation = self._continuation
        self.deliver_notices()
        return continuation

    def _open(self, *, from_segments: bool = True) -> None:
        """Open (or create) the file, take the writer lock, recover a torn tail, resume the chain."""
        fd = open_for_append(self.path)
        try:
            # Every check runs on the complete lines first, so a refusal leaves the file as it was.
            where = resume(self.path, from_segments=from_segments)
            recovered = move_torn_tail(self.path, fd) if where.torn else None
            st = os.fstat(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._chain, self._seq, self._prev = fd, where.chain, where.seq, where.prev
        self._base = where.base
        self._end = st.st_size
        self._identity = (st.st_dev, st.st_ino)
        self._opened_at = self.rotation.clock() if self.rotation is not None else 0.0
        self.recovered = recovered
        self._continuation = None
        if where.continues is not None:
            self._continuation = self._append(notices.rotated(where.continues, where.seq, where.prev))
            self._notices.append(self._continuation)
        if recovered is not None:
            self._notices.append(self._append(notices.recovered(recovered)))

    def _sync_through(self, seq: int, *, durable: bool, force: bool = False) -> None:
        """fsync (if `durable`) and re-anchor, unless a sync already covered `seq`.

        Concurrent callers queue on `_sync_lock`; the first one's fsync covers every record
        written before it started, so the others usually find their work done.
        """
        with self._sync_lock:
            if self._synced_seq >= seq and not force:
                return
            with self._lock:
                upto, digest = self._seq, self._prev
            if durable:
                os.fsync(self._fd)
            if upto > 0:
                write_head(self.path, HeadAnchor(self._chain, upto, digest), durable=durable)
            self._synced_seq = upto

    def _flush_periodically(self) -> None:
        failing = False
        while not self._stop.wait(self.fsync_interval_s):
            if self._seq > self._synced_seq:
                try:
                    self._sync_through(self._seq, durable=True)
                except OSError as exc:
                    # Keep trying on the next tick: a full disk may be freed; records are
                    # already with the kernel, only their durability is late. Said once.
                    if not failing:
                        _log.error("audit log %s: fsync or head anchor update failed: %s", self.path, exc)
                    failing = True
                else:
                    failing = False
