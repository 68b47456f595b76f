"""Stdout sink: one JSON line per record, for containers whose log driver ships stdout.

A blocked stdout pipe (a stalled log collector) must not stall requests either, so
records go through the same bounded queue and sender thread as the network sinks.
"""

from __future__ import annotations

import sys
from typing import IO, Any

import orjson

from mcpwarden.audit.sinks.queue import QueuedSink, Record


class StdoutSink(QueuedSink):
    kind = "stdout"

    def __init__(self, name: str, *, stream: IO[bytes] | None = None, **queue: Any) -> None:
        super().__init__(name, **queue)
        self._stream = stream

    def send(self, batch: list[Record]) -> None:
        stream = self._stream if self._stream is not None else sys.stdout.buffer
        stream.write(b"".join(orjson.dumps(r, option=orjson.OPT_SORT_KEYS) + b"\n" for r in batch))
        stream.flush()
