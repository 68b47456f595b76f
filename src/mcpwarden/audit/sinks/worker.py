"""The sink process: redaction and every sink's formatting and sending, off the gateway's GIL.

Measured on a loaded 2-core machine, the sinks (secret redaction, RFC 5424 + CEF, the
OpenTelemetry SDK's log records and their protobuf encoding, HTTP clients) cost about 1 ms
of gateway CPU per call when they ran as threads in the gateway process: threads share
one interpreter lock with the event loop, so that was request time. In a child process the
same work runs on another core. The gateway's part shrinks to appending each record to a
bounded queue and, from one thread, writing batches of JSON lines into a pipe.

`SinkProcess` (the gateway side) is a `QueuedSink`: its queue is bounded like any sink's,
and when the child is slow or gone the records are dropped and counted, never waited for.
The child (`python -m mcpwarden.audit.sinks.worker`) reads the lines, redacts each record
once, offers it to each configured sink's own bounded queue, and every half second writes
the sinks' counters to a stats pipe, which `SinkProcess.remote` turns into the same
per-sink depth, sent and dropped numbers that `/metrics` shows for in-process sinks.
A child that dies is started again at the next batch (its queued records are lost and
counted); at close the gateway drains its queue into the pipe, closes it, and the child
drains its sinks within their `close_timeout_s`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import IO, Any

import orjson

from mcpwarden.audit.sinks.queue import QueuedSink, Record, SinkStats

log = logging.getLogger("mcpwarden.audit.sinks")

STATS_INTERVAL_S = 0.5
# A child that keeps dying (a sink that cannot even be built) is started at most this often;
# batches in between fail, are retried with backoff, then dropped and counted.
RESPAWN_MIN_S = 1.0


class RemoteSink:
    """What `/metrics` reads about one sink that lives in the child process."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.depth = 0
        self.stats = SinkStats()


class _Child:
    """One started child: records handed to it and records it said it received."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.handed = 0
        self.received = 0


class SinkProcess(QueuedSink):
    """Hands records to the sink process; see the module docstring."""

    kind = "process"

    def __init__(
        self,
        sink_configs: Sequence[dict[str, Any]],
        *,
        name: str = "sink-process",
        replica: str | None = None,
        **queue: Any,
    ) -> None:
        queue.setdefault("batch_size", 256)
        queue.setdefault("flush_interval_s", 0.05)
        queue.setdefault("max_attempts", 5)
        queue.setdefault("retry_initial_s", 0.2)
        super().__init__(name, **queue)
        self.configs = [dict(c) for c in sink_configs]
        # The child builds the sinks, so it needs the replica id they stamp on CEF and syslog.
        self.replica = replica
        self.stdout = any(c.get("type") == "stdout" for c in self.configs)
        self.remote: dict[str, RemoteSink] = {}
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._child: _Child | None = None
        self._reader: threading.Thread | None = None
        self._spawn_lock = threading.Lock()
        self._spawned_at = float("-inf")

    def sinks(self) -> list[Any]:
        """This queue and the child's sinks, for the metrics gauges."""
        return [self, *self.remote.values()]

    def start(self) -> None:
        self._spawn()
        super().start()

    def _spawn(self) -> None:
        with self._spawn_lock:
            if self._proc is not None and self._proc.poll() is None:
                return
            if self._proc is not None:
                if time.monotonic() - self._spawned_at < RESPAWN_MIN_S:
                    raise ConnectionError("the audit sink process keeps exiting; not restarting it yet")
                self.restarts += 1
                log.error("the audit sink process exited (%s); starting it again", self._proc.returncode)
            read_fd, write_fd = os.pipe()
            try:
                self._proc = subprocess.Popen(
                    [sys.executable, "-m", "mcpwarden.audit.sinks.worker", str(write_fd)],
                    stdin=subprocess.PIPE,
                    stdout=None if self.stdout else subprocess.DEVNULL,
                    env={
                        **os.environ,
                        "MCPWARDEN_SINKS": orjson.dumps(self.configs).decode(),
                        "MCPWARDEN_SINKS_REPLICA": self.replica or "",
                    },
                    pass_fds=(write_fd,),
                    close_fds=True,
                )
            except BaseException:
                os.close(read_fd)
                raise
            finally:
                os.close(write_fd)
            self._spawned_at = time.monotonic()
            self._child = child = _Child(self._proc)
            stats = os.fdopen(read_fd, "rb")
            self._reader = threading.Thread(
                target=self._read_stats, args=(stats, child), name="audit-sink-stats", daemon=True
            )
            self._reader.start()

    def send(self, batch: list[Record]) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            self._spawn()
            proc = self._proc
        child = self._child
        assert proc is not None and proc.stdin is not None and child is not None
        data = b"".join(orjson.dumps(record) + b"\n" for record in batch)
        proc.stdin.write(data)
        proc.stdin.flush()
        child.handed += len(batch)

    def _read_stats(self, stream: IO[bytes], child: _Child) -> None:
        with stream:
            for line in stream:
                try:
                    report = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(report, dict) and isinstance(report.get("received"), int):
                    child.received = report["received"]
                for item in report.get("sinks", []) if isinstance(report, dict) else []:
                    remote = self.remote.setdefault(str(item.get("name")), RemoteSink(str(item.get("name"))))
                    remote.depth = int(item.get("depth", 0))
                    remote.stats.sent = int(item.get("sent", 0))
                    remote.stats.dropped = int(item.get("dropped", 0))
        # The child is gone (its end of the stats pipe closed): what it was handed and never
        # confirmed is lost to the sinks, and counted as dropped here.
        lost = child.handed - child.received
        if lost > 0:
            self.stats.dropped += lost
            log.warning("the audit sink process ended with %d record(s) it had not taken", lost)

    def shutdown(self) -> None:
        """After the queue drained into the pipe: close it and let the child drain its sinks."""
        proc = self._proc
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):  # the child is already gone
                proc.stdin.close()
        wait = max((float(c.get("close_timeout_s", 5.0)) for c in self.configs), default=5.0) + 5.0
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if self._reader is not None:
            self._reader.join(2.0)


def _serve(stats_fd: int) -> None:
    """The child: stdin lines → redact → each sink; counters to `stats_fd` twice a second."""
    from pydantic import TypeAdapter

    from mcpwarden.audit.sinks.config import SinkConfig
    from mcpwarden.audit.sinks.factory import build_sinks
    from mcpwarden.audit.sinks.redact import redact_record

    configs = TypeAdapter(list[SinkConfig]).validate_json(os.environ["MCPWARDEN_SINKS"])
    sinks = build_sinks(configs, replica=os.environ.get("MCPWARDEN_SINKS_REPLICA") or None)
    for sink in sinks:
        sink.start()
    stats = os.fdopen(stats_fd, "wb", buffering=0)
    done = threading.Event()

    received = 0

    def report() -> None:
        body = [
            {"name": s.name, "depth": s.depth, "sent": s.stats.sent, "dropped": s.stats.dropped}
            for s in sinks
        ]
        try:
            stats.write(orjson.dumps({"received": received, "sinks": body}) + b"\n")
        except OSError:
            done.set()

    def reporter() -> None:
        while not done.wait(STATS_INTERVAL_S):
            report()

    threading.Thread(target=reporter, name="audit-sink-report", daemon=True).start()
    for line in sys.stdin.buffer:
        received += 1
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(record, dict):
            continue
        safe = redact_record(record)
        for sink in sinks:
            sink.offer(safe)
    for sink in sinks:
        sink.close()
    done.set()
    report()
    stats.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="mcpwarden sink process: %(message)s")
    _serve(int(sys.argv[1]))
