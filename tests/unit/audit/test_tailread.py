"""Reading the last lines of a file from its end."""

from __future__ import annotations

import io

from mcpwarden.audit.tailread import last_lines


def test_last_lines_spans_reads_of_several_blocks() -> None:
    lines = [b"x" * 100_000 + b"\n", b"short\n", b"y" * 70_000 + b"\n", b"end\n"]
    assert last_lines(io.BytesIO(b"".join(lines)), 3) == lines[1:]


def test_last_lines_returns_a_cut_short_line_without_newline() -> None:
    assert last_lines(io.BytesIO(b"a\nb\npartial"), 2) == [b"b\n", b"partial"]


def test_last_lines_of_a_short_file_returns_all_of_it() -> None:
    assert last_lines(io.BytesIO(b"a\nb\n"), 10) == [b"a\n", b"b\n"]


def test_last_lines_of_an_empty_file_is_empty() -> None:
    assert last_lines(io.BytesIO(b""), 5) == []
