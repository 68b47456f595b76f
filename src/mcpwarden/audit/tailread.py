"""Reading the last lines of a log without reading the whole file."""

from __future__ import annotations

import os
from typing import BinaryIO

_BLOCK = 64 * 1024


def last_lines(f: BinaryIO, n: int) -> list[bytes]:
    """The last `n` lines of an open binary file, each with its newline if it had one.

    A final line without a newline (a write cut short) is returned as is, so callers can
    tell it apart from a complete record.
    """
    if n <= 0:
        return []
    end = f.seek(0, os.SEEK_END)
    pos = end
    data = b""
    # One more newline than lines wanted marks the start of the first wanted line.
    while pos > 0 and data.count(b"\n") <= n:
        step = min(_BLOCK, pos)
        pos -= step
        f.seek(pos)
        data = f.read(step) + data
    lines = [piece + b"\n" for piece in data.split(b"\n")]
    lines[-1] = lines[-1][:-1]  # what follows the last newline: empty, or a cut-short line
    if not lines[-1]:
        lines.pop()
    if pos > 0:
        lines = lines[1:]  # the first piece may be the tail of an earlier line
    return lines[-n:]
