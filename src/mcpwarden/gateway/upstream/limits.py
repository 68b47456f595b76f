"""Size caps applied while an upstream's bytes arrive, never after buffering them.

An upstream that answers with 100 MB (or never ends its line) must cost the gateway at most
the cap, so bodies are read in chunks and counted, and lines are split by a small state
machine that drops the rest of an oversized line instead of accumulating it. The same
splitter serves stdio stdout and HTTP event streams.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

# Results travel inside a JSON-RPC envelope; a reply may exceed the result cap by this much
# and still be read (the result-size guard then judges the result itself exactly).
ENVELOPE_SLACK = 64 * 1024
# Methods whose replies are results under `max_result_bytes` (the result-size guard's hooks).
RESULT_CAPPED = frozenset({"tools/call", "resources/read", "prompts/get"})
# How much of a line is kept to tell which request an oversized reply belonged to.
PEEK_BYTES = 512
CHUNK = 64 * 1024

_ID = re.compile(rb'"id"\s*:\s*(-?\d{1,18}|"(?:[^"\\]|\\.){0,200}")')


class Garbage(Exception):
    """An upstream stream that keeps sending what its protocol does not contain."""


class TooLarge(Exception):
    """A message, body or line went past its cap; nothing beyond the cap was kept."""

    def __init__(self, what: str, cap: int, prefix: bytes = b"") -> None:
        super().__init__(f"{what} exceeds the {cap}-byte cap")
        self.cap = cap
        self.prefix = prefix


def read_cap(method: str | None, max_message: int, max_result: int | None) -> int:
    """The most bytes worth reading for the reply to `method`."""
    if method in RESULT_CAPPED and max_result is not None:
        # A result may carry its data twice (`content` and `structuredContent`) and the
        # result-size guard counts it once, so a result within the cap can be twice as long
        # on the wire; reading less would refuse what the cap allows.
        return min(max_message, 2 * max_result + ENVELOPE_SLACK)
    return max_message


def peek_id(prefix: bytes) -> Any:
    """The JSON-RPC id near the start of a cut-off message, or None.

    Used only to fail the request an oversized reply belonged to: a hostile upstream that
    plants a fake id can at worst fail one of its own requests, which it could anyway.
    """
    match = _ID.search(prefix)
    if match is None:
        return None
    try:
        return orjson.loads(match.group(1))
    except orjson.JSONDecodeError:
        return None


async def read_body(chunks: AsyncIterator[bytes], cap: int, declared: int | None = None) -> bytes:
    """Read a whole body, refusing (before reading) a declared length over the cap."""
    if declared is not None and declared > cap:
        raise TooLarge(f"body of {declared} bytes", cap)
    buf = bytearray()
    async for chunk in chunks:
        buf += chunk
        if len(buf) > cap:
            raise TooLarge("body", cap, bytes(buf[:PEEK_BYTES]))
    return bytes(buf)


@dataclass(slots=True)
class Oversize:
    """Stands in for a line that went past its cap; `prefix` holds its first bytes."""

    prefix: bytes
    cap: int


class LineSplitter:
    """Splits a byte stream into lines of at most `cap` bytes (newline excluded).

    A longer line yields one `Oversize` as soon as the cap is passed and its remaining bytes
    are skipped up to the next newline, so memory stays within the cap plus one chunk.
    `cap_for(prefix)` may lower the cap per line once its first bytes are known (a reply
    whose id shows it answers a result-capped request).
    """

    def __init__(self, cap: int, cap_for: Callable[[bytes], int] | None = None) -> None:
        self.cap = cap
        self._cap_for = cap_for
        self._buf = bytearray()
        self._line_cap: int | None = None
        self._skipping = False

    def _current_cap(self) -> int:
        if self._line_cap is None:
            if self._cap_for is None:
                self._line_cap = self.cap
            elif len(self._buf) >= PEEK_BYTES:
                self._line_cap = min(self.cap, self._cap_for(bytes(self._buf[:PEEK_BYTES])))
            else:
                return self.cap
        return self._line_cap

    def _end_line(self) -> None:
        self._buf = bytearray()
        self._line_cap = None

    def feed(self, chunk: bytes) -> list[bytes | Oversize]:
        out: list[bytes | Oversize] = []
        pos = 0
        size = len(chunk)
        while pos < size:
            nl = chunk.find(b"\n", pos)
            if self._skipping:
                if nl < 0:
                    return out
                self._skipping = False
                pos = nl + 1
                continue
            end = size if nl < 0 else nl
            self._buf += chunk[pos:end]
            cap = self._current_cap()
            if nl >= 0 and self._cap_for is not None and self._line_cap is None:
                cap = self._line_cap = min(self.cap, self._cap_for(bytes(self._buf[:PEEK_BYTES])))
            if len(self._buf) > cap:
                out.append(Oversize(bytes(self._buf[:PEEK_BYTES]), cap))
                self._end_line()
                self._skipping = nl < 0
            elif nl >= 0:
                line = bytes(self._buf)
                self._end_line()
                out.append(line[:-1] if line.endswith(b"\r") else line)
            if nl < 0:
                return out
            pos = nl + 1
        return out

    def tail(self) -> bytes | None:
        """What is left when the stream ends without a final newline."""
        if self._skipping or not self._buf:
            return None
        line = bytes(self._buf)
        self._end_line()
        return line


async def split_lines(
    read: Callable[[], Awaitable[bytes]], cap: int, cap_for: Callable[[bytes], int] | None = None
) -> AsyncIterator[bytes | Oversize]:
    """Lines from `read()` (which returns b"" at the end), capped as `LineSplitter` does."""
    splitter = LineSplitter(cap, cap_for)
    while True:
        chunk = await read()
        if not chunk:
            break
        for item in splitter.feed(chunk):
            yield item
    last = splitter.tail()
    if last is not None:
        yield last
