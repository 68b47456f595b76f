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

Re-opening an existing file continues its chain. The last line is checked first (complete,
hash intact, `seq` equal to its line number, consistent with the head anchor); if it is
not, the log refuses to open (`AuditChainError`) rather than chain new records onto a
record nobody can vouch for. The operator runs `mcpwarden audit verify FILE`, moves the
damaged file aside, and a fresh file starts a fresh chain. Failing closed is deliberate:
silently starting over would let someone hide a truncation by restarting the gateway.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import orjson

from mcpwarden.audit.canonical import args_digest, to_plain_json
from mcpwarden.audit.chain import genesis, new_chain_id, record_hash, seal
from mcpwarden.audit.events import CHAIN_FIELDS, EVENT_FIELDS, AuditEvent
from mcpwarden.audit.head import HeadAnchor, HeadError, read_head, write_head
from mcpwarden.audit.tailread import last_lines

_log = logging.getLogger(__name__)

FsyncPolicy = Literal["always", "interval", "never"]
_POLICIES: frozenset[str] = frozenset({"always", "interval", "never"})


class AuditChainError(RuntimeError):
    """The existing audit file cannot be continued safely (damaged tail, foreign anchor, in use)."""


def utc_timestamp() -> str:
    """RFC 3339 UTC with microseconds, e.g. `2026-01-02T03:04:05.123456Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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

        self._lock = threading.Lock()  # guards seq/prev and the write itself
        self._sync_lock = threading.Lock()  # one fsync + anchor update at a time
        self._closed = False
        self._failed: str | None = None
        self._synced_seq = 0

        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)
        self._fd = os.open(self.path, flags, 0o600)
        try:
            _lock_exclusively(self._fd, self.path)
            self._chain, self._seq, self._prev = self._resume()
        except BaseException:
            os.close(self._fd)
            raise
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
        """Append one record and return it as written (with time, seq, prev and hash)."""
        record = to_plain_json(self._fields_of(event))
        with self._lock:
            if self._closed:
                raise ValueError("write to a closed AuditLog")
            seq = self._seq + 1
            record["chain"] = self._chain
            record["seq"] = seq
            record["prev"] = self._prev
            record, line = seal(record)
            if self._failed is not None:
                raise AuditChainError(
                    f"{self.path}: an earlier write failed ({self._failed}); reopen the log"
                )
            try:
                _write_all(self._fd, line)
            except OSError as exc:
                # Part of the line may be on disk; appending after it would bury a broken
                # record mid-file, so stop here and let reopening report the damaged tail.
                self._failed = exc.strerror or str(exc)
                raise
            self._seq = seq
            self._prev = record["hash"]
        if self.fsync_policy == "always":
            self._sync_through(seq, durable=True)
        return record

    async def awrite(self, event: AuditEvent | dict[str, Any]) -> dict[str, Any]:
        """`write` for coroutines: under `always`, the fsync wait moves to a worker thread."""
        if self.fsync_policy == "always":
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

    # -- internals ----------------------------------------------------------------------

    def _fields_of(self, event: AuditEvent | dict[str, Any]) -> dict[str, Any]:
        if isinstance(event, AuditEvent):
            fields = event.to_fields()
        else:
            forged = CHAIN_FIELDS & event.keys()
            if forged:
                raise ValueError(f"audit events may not set chain fields: {sorted(forged)}")
            unknown = event.keys() - EVENT_FIELDS
            if unknown:
                raise ValueError(f"unknown audit fields {sorted(unknown)}; put them in 'details'")
            if "event" not in event:
                raise ValueError("an audit event needs an 'event' kind")
            fields = {k: v for k, v in event.items() if v is not None}
        if "arguments" in fields:
            arguments = fields["arguments"] if self.include_raw_arguments else fields.pop("arguments")
            fields.setdefault("args_sha256", args_digest(arguments))
        fields.setdefault("time", utc_timestamp())
        if self.replica is not None:
            fields.setdefault("replica", self.replica)
        return fields

    def _resume(self) -> tuple[str, int, str]:
        """Chain id, last seq and last hash to continue from; a new chain for an empty file."""
        try:
            anchor = read_head(self.path)
        except HeadError as exc:
            raise AuditChainError(f"cannot continue {self.path}: {exc}") from None
        with open(self.path, "rb") as f:
            tail = last_lines(f, 1)
        if not tail:
            if anchor is not None:
                raise AuditChainError(
                    f"cannot continue {self.path}: the file is empty but its head anchor records "
                    f"seq {anchor.seq}; the log was truncated"
                )
            fresh = new_chain_id()
            return fresh, 0, genesis(fresh)
        last = tail[0]
        where = f"cannot continue {self.path}: its last line"
        if not last.endswith(b"\n"):
            raise AuditChainError(f"{where} is incomplete (cut short mid-write or truncated)")
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
        lines = _count_lines(self.path)
        if seq != lines:
            raise AuditChainError(f"{where} has seq {seq} but is line {lines} (lines removed or added)")
        if anchor is not None:
            if anchor.chain != chain:
                raise AuditChainError(f"cannot continue {self.path}: its head anchor is for another chain")
            if anchor.seq > seq or (anchor.seq == seq and anchor.hash != digest):
                raise AuditChainError(
                    f"cannot continue {self.path}: its head anchor records seq {anchor.seq} "
                    f"that the file no longer ends with (truncated or rewritten)"
                )
        return chain, seq, digest

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
        while not self._stop.wait(self.fsync_interval_s):
            if self._seq > self._synced_seq:
                try:
                    self._sync_through(self._seq, durable=True)
                except OSError:
                    # Keep trying on the next tick: a full disk may be freed; records are
                    # already with the kernel, only their durability is late.
                    _log.exception("audit log %s: fsync or head anchor update failed", self.path)


def _write_all(fd: int, data: bytes) -> None:
    """One `write` almost always suffices; loop for the rare short write (e.g. a signal)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _count_lines(path: Path) -> int:
    """Newlines in the file: a full scan, done once when an existing log is reopened."""
    count = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            count += block.count(b"\n")
    return count


def _lock_exclusively(fd: int, path: Path) -> None:
    """Refuse a second writer: two processes appending to one file would fork the chain."""
    if sys.platform == "win32":
        return
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise AuditChainError(f"{path} is already open for writing by another process") from None
