"""Caps applied while reading upstream bytes: the line splitter and body reader."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from mcpwarden.gateway.upstream.limits import (
    Garbage,
    LineSplitter,
    Oversize,
    TooLarge,
    peek_id,
    read_body,
    read_cap,
)
from mcpwarden.gateway.upstream.sse import iter_sse


def test_lines_split_across_chunks_are_joined() -> None:
    s = LineSplitter(100)
    assert s.feed(b'{"a":') == []
    assert s.feed(b'1}\n{"b":2}\r\n{"c"') == [b'{"a":1}', b'{"b":2}']
    assert s.tail() == b'{"c"'


def test_oversized_line_is_reported_once_and_its_rest_skipped() -> None:
    s = LineSplitter(10)
    out = s.feed(b"x" * 8) + s.feed(b"y" * 50) + s.feed(b"z" * 50) + s.feed(b"zz\nok\n")
    assert len(out) == 2 and isinstance(out[0], Oversize) and out[1] == b"ok"


def test_splitter_memory_stays_within_cap_plus_one_chunk() -> None:
    s = LineSplitter(1000)
    for _ in range(1000):
        s.feed(b"q" * 4096)
        assert len(s._buf) <= 1000 + 4096


def test_line_cap_follows_the_request_the_reply_answers() -> None:
    caps = {7: 50}
    s = LineSplitter(10_000, cap_for=lambda prefix: caps.get(peek_id(prefix), 10_000))
    reply = b'{"jsonrpc":"2.0","id":7,"result":"' + b"x" * 100 + b'"}\n'
    other = b'{"jsonrpc":"2.0","id":8,"result":"' + b"x" * 100 + b'"}\n'
    out = s.feed(reply + other)
    assert isinstance(out[0], Oversize) and out[0].cap == 50
    assert out[1] == other[:-1]


def test_peek_id_reads_integer_and_string_ids() -> None:
    assert peek_id(b'{"jsonrpc":"2.0","id":42,"result"') == 42
    assert peek_id(b'{"id": "abc", "result"') == "abc"
    assert peek_id(b'{"jsonrpc":"2.0","result"') is None


def test_read_cap_is_the_result_cap_plus_envelope_for_result_methods_only() -> None:
    assert read_cap("tools/call", 8_000_000, 1_000_000) < 8_000_000
    assert read_cap("tools/list", 8_000_000, 1_000_000) == 8_000_000
    assert read_cap("tools/call", 8_000_000, None) == 8_000_000


async def _chunks(n: int, size: int) -> AsyncIterator[bytes]:
    for _ in range(n):
        yield b"x" * size


def test_body_over_the_cap_stops_reading_at_the_cap() -> None:
    with pytest.raises(TooLarge):
        asyncio.run(read_body(_chunks(1000, 1000), 10_000))


def test_declared_length_over_the_cap_is_refused_before_reading() -> None:
    with pytest.raises(TooLarge, match="body of 5000000 bytes"):
        asyncio.run(read_body(_chunks(0, 0), 10_000, declared=5_000_000))


async def _lines(*items: bytes | Oversize) -> AsyncIterator[bytes | Oversize]:
    for item in items:
        yield item


async def _events(lines: AsyncIterator[bytes | Oversize], cap: int) -> list[str]:
    return [e.data async for e in iter_sse(lines, cap)]


def test_sse_event_padded_with_many_small_lines_is_cut_at_the_cap() -> None:
    padding = [b"data: " + b"y" * 90 for _ in range(100)]
    with pytest.raises(TooLarge):
        asyncio.run(_events(_lines(*padding, b""), 1000))


def test_sse_events_under_the_cap_pass() -> None:
    got = asyncio.run(
        _events(_lines(b"event: message", b"data: {}", b"", b": ping", b"", b"data: 1", b""), 100)
    )
    assert got == ["{}", "1"]


def test_sse_stream_of_unknown_fields_is_garbage_not_a_wait() -> None:
    noise = [b"x-junk: " + str(i).encode() for i in range(500)]
    with pytest.raises(Garbage):
        asyncio.run(_events(_lines(*noise), 1_000_000))


def test_a_few_unknown_fields_are_ignored_as_the_sse_spec_says() -> None:
    got = asyncio.run(_events(_lines(b"x-vendor: 1", b"data: {}", b""), 1000))
    assert got == ["{}"]
