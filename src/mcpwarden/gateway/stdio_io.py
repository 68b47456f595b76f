"""Our own stdin and stdout for `mcpwarden wrap`, whatever they are: pipes, sockets, regular
files, terminals or /dev/null.

Why not simply `loop.connect_read_pipe`/`connect_write_pipe`: uvloop aborts the whole process
(SIGABRT, no message) when handed a regular file, and MCP clients, scripts and tests do hand us
files (`mcpwarden wrap -- server < requests.jsonl > replies.jsonl`). So:

- stdin is read by one daemon thread with blocking `os.read`, which works on every kind of file
  descriptor, and handed to the event loop through a small bounded queue: a client that writes
  faster than we process waits on its pipe instead of growing our memory;
- stdout uses the event loop's pipe transport where that is safe (pipes and sockets, where a
  client that does not read must not block the loop) and plain blocking writes otherwise (a
  regular file or a terminal never blocks for long);
- lines are split here with a hard length bound: an over-long line is reported once and skipped
  up to its newline, never buffered whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import threading
from collections.abc import AsyncIterator

CHUNK_BYTES = 65_536
# Chunks waiting between the reader thread and the loop: bounds what a fast client can queue.
QUEUE_CHUNKS = 16


class LineTooLong:
    """Yielded in place of a line longer than the limit (its bytes are discarded)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit


def start_reader(fd: int, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[bytes]:
    """Read `fd` in a daemon thread; chunks arrive on the queue, `b""` means end of input.

    A daemon thread because a blocking `os.read` cannot be interrupted: when the wrapper exits
    for another reason (the server went away) the thread simply dies with the process.
    """
    queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=QUEUE_CHUNKS)

    def put(chunk: bytes) -> bool:
        try:
            asyncio.run_coroutine_threadsafe(queue.put(chunk), loop).result()
        except (Exception, asyncio.CancelledError):
            return False  # the loop is closed or shutting down: nobody is listening any more
        return True

    def pump() -> None:
        while True:
            try:
                chunk = os.read(fd, CHUNK_BYTES)
            except OSError:
                chunk = b""
            if not put(chunk) or not chunk:
                return

    threading.Thread(target=pump, name="mcpwarden-wrap-stdin", daemon=True).start()
    return queue


async def bounded_lines(queue: asyncio.Queue[bytes], limit: int) -> AsyncIterator[bytes | LineTooLong]:
    """Split chunks into lines of at most `limit` bytes (newline excluded).

    A longer line yields one `LineTooLong` and is skipped up to its newline, so the next line
    is read correctly and memory never holds more than `limit` plus one chunk. A last line
    without a newline is still a line.
    """
    buffer = bytearray()
    discarding = False
    while True:
        chunk = await queue.get()
        if not chunk:
            if buffer and not discarding:
                yield bytes(buffer)
            return
        if discarding:
            end = chunk.find(b"\n")
            if end < 0:
                continue
            discarding = False
            chunk = chunk[end + 1 :]
        buffer += chunk
        start = 0
        while True:
            end = buffer.find(b"\n", start)
            if end < 0:
                break
            if end - start > limit:
                yield LineTooLong(limit)
            else:
                yield bytes(buffer[start:end])
            start = end + 1
        del buffer[:start]
        if len(buffer) > limit:
            buffer.clear()
            discarding = True
            yield LineTooLong(limit)


class ClientGone(Exception):
    """Our stdout is closed: the client stopped reading, so there is no one left to serve."""


class Output:
    """Line writes to a file descriptor; raises ClientGone once the reader has gone away."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()
        self.closed = False

    async def open(self) -> None:
        mode = os.fstat(self.fd).st_mode
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            loop = asyncio.get_running_loop()
            pipe = os.fdopen(os.dup(self.fd), "wb", buffering=0)
            transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, pipe)
            self._writer = asyncio.StreamWriter(transport, protocol, None, loop)

    async def write_line(self, data: bytes) -> None:
        if self.closed:
            raise ClientGone("stdout is closed")
        async with self._lock:
            try:
                if self._writer is not None:
                    if self._writer.transport.is_closing():
                        raise BrokenPipeError("stdout transport closed")
                    self._writer.write(data + b"\n")
                    await self._writer.drain()
                else:
                    view = memoryview(data + b"\n")
                    while view:
                        view = view[os.write(self.fd, view) :]
            except (BrokenPipeError, ConnectionResetError, RuntimeError, OSError) as exc:
                self.closed = True
                raise ClientGone(f"stdout is closed: {exc}") from exc

    def close(self) -> None:
        self.closed = True
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
