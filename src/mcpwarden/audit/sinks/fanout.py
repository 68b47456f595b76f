"""The one call where every audit event goes: the file, then observers, then the sinks.

`AuditFanout` is what the gateway holds as its audit writer. `write` appends to the
hash-chained file synchronously (so the file has every event, whatever the sinks do),
lets observers (metrics, anomaly detection, checkpoints) see the sealed record, and
hands the record to a dispatcher queue. The dispatcher thread redacts it once and offers
the redacted copy to each sink's own queue. Nothing on the request path touches a socket.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from mcpwarden.audit.canonical import args_digest, to_plain_json
from mcpwarden.audit.events import AuditEvent
from mcpwarden.audit.jsonl import AuditLog, utc_timestamp
from mcpwarden.audit.sinks.queue import QueuedSink, Record
from mcpwarden.audit.sinks.redact import redact_record

log = logging.getLogger("mcpwarden.audit.sinks")

Observer = Callable[[Record], None]


class _Dispatcher(QueuedSink):
    """Redacts each record once and offers it to every sink (drops counted per sink)."""

    kind = "dispatch"

    def __init__(self, sinks: Sequence[QueuedSink], max_queue: int) -> None:
        super().__init__("dispatch", max_queue=max_queue, batch_size=256, max_attempts=1)
        self.sinks = list(sinks)

    def send(self, batch: list[Record]) -> None:
        for record in batch:
            safe = redact_record(record)
            for sink in self.sinks:
                sink.offer(safe)


class AuditFanout:
    """Implements `AuditSink`: the file is authoritative; sinks are best effort and bounded."""

    def __init__(
        self,
        file: AuditLog | None,
        sinks: Sequence[QueuedSink] = (),
        *,
        observers: Sequence[Observer] = (),
        max_pending: int = 10_000,
        replica: str | None = None,
        forward: QueuedSink | None = None,
    ) -> None:
        """`forward`: a sink that takes records unredacted and does the rest elsewhere (the
        sink process, `worker.py`); used instead of in-process `sinks`."""
        self.file = file
        # Without a file (which stamps it itself) the sinks still learn which replica spoke.
        self.replica = replica
        self.sinks = list(sinks)
        self.observers = list(observers)
        self.dispatcher: _Dispatcher | None = _Dispatcher(self.sinks, max_pending) if self.sinks else None
        self.forward = forward
        self._closers: list[Callable[[], None]] = []
        self._closed = False
        if file is not None:
            # What the log writes about itself (rotation, recovery, resumption) is seen too.
            file.on_notice = self._fan_out

    def start(self) -> None:
        for sink in self.sinks:
            sink.start()
        if self.dispatcher is not None:
            self.dispatcher.start()
        if self.forward is not None:
            self.forward.start()

    def add_observer(self, observer: Observer, *, on_close: Callable[[], None] | None = None) -> None:
        self.observers.append(observer)
        if on_close is not None:
            self._closers.append(on_close)
        if self.file is not None:
            self.file.deliver_notices()  # e.g. a recovery at start-up, once someone listens

    def write(self, event: AuditEvent | dict[str, Any]) -> dict[str, Any]:
        record = self.file.write(event) if self.file is not None else _unchained(event)
        if self.replica is not None:
            record.setdefault("replica", self.replica)
        self._fan_out(record)
        return record

    def _fan_out(self, record: dict[str, Any]) -> None:
        for observer in self.observers:
            try:
                observer(record)
            except Exception:  # an observer's bug must not lose the request or the record
                log.exception("audit observer %r failed", observer)
        if self.dispatcher is not None:
            self.dispatcher.offer(record)
        if self.forward is not None:
            self.forward.offer(record)

    async def awrite(self, event: AuditEvent | dict[str, Any]) -> dict[str, Any]:
        """`write` for coroutines: under `fsync: always`, the wait moves to a worker thread."""
        if self.file is not None and self.file.fsync_policy == "always":
            return await asyncio.to_thread(self.write, event)
        return self.write(event)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for closer in self._closers:
            try:
                closer()
            except Exception:
                log.exception("audit observer close failed")
        if self.dispatcher is not None:
            self.dispatcher.close()
        for sink in self.sinks:
            sink.close()
        if self.forward is not None:
            self.forward.close()
        if self.file is not None:
            self.file.close()


def _unchained(event: AuditEvent | dict[str, Any]) -> dict[str, Any]:
    """A record for the sinks when no audit file is configured (no chain fields)."""
    fields = event.to_fields() if isinstance(event, AuditEvent) else dict(event)
    fields = {k: v for k, v in fields.items() if v is not None}
    if "arguments" in fields:
        fields["args_sha256"] = args_digest(fields.pop("arguments"))
    fields.setdefault("time", utc_timestamp())
    record: dict[str, Any] = to_plain_json(fields)
    return record
