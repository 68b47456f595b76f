"""EventStream and StreamRegistry: numbered events, bounded replay, one puller at a time."""

from __future__ import annotations

import asyncio

import pytest

from mcpwarden.gateway.streams import KEEPALIVE, EventStream, StreamRegistry

pytestmark = pytest.mark.anyio


def _queue_source(queue: asyncio.Queue[tuple[bytes, bool] | None]):  # type: ignore[no-untyped-def]
    async def pull(timeout: float | None) -> tuple[bytes, bool] | None:
        return await asyncio.wait_for(queue.get(), timeout)

    return pull


def _stream(queue: asyncio.Queue[tuple[bytes, bool] | None], **limits: int) -> EventStream:
    return EventStream(
        "s", _queue_source(queue), kind="request", **{"max_events": 10, "max_bytes": 1000, **limits}
    )


async def _collect(stream: EventStream, after: int) -> list[tuple[int, bytes]]:
    return [item async for item in stream.follow(after) if not isinstance(item, type(KEEPALIVE))]  # type: ignore[misc]


async def test_events_are_numbered_from_one_and_the_last_one_ends_the_stream() -> None:
    queue: asyncio.Queue[tuple[bytes, bool] | None] = asyncio.Queue()
    for item in [(b"a", False), (b"b", False), (b"c", True)]:
        queue.put_nowait(item)
    stream = _stream(queue)
    assert await _collect(stream, 0) == [(1, b"a"), (2, b"b"), (3, b"c")]
    assert stream.ended


async def test_a_second_reader_gets_what_the_first_pulled_after_its_position() -> None:
    queue: asyncio.Queue[tuple[bytes, bool] | None] = asyncio.Queue()
    for item in [(b"a", False), (b"b", False), (b"c", True)]:
        queue.put_nowait(item)
    stream = _stream(queue)
    await _collect(stream, 0)
    assert await _collect(stream, 1) == [(2, b"b"), (3, b"c")]


async def test_replay_keeps_only_the_newest_events_within_the_count_bound() -> None:
    queue: asyncio.Queue[tuple[bytes, bool] | None] = asyncio.Queue()
    stream = _stream(queue, max_events=2)
    for data in (b"a", b"b", b"c"):
        stream.append(data)
    assert stream.lost_after(0)
    assert not stream.lost_after(1)
    queue.put_nowait(None)
    assert await _collect(stream, 0) == [(2, b"b"), (3, b"c")]


async def test_the_newest_event_is_kept_even_when_it_alone_exceeds_the_byte_bound() -> None:
    queue: asyncio.Queue[tuple[bytes, bool] | None] = asyncio.Queue()
    stream = _stream(queue, max_bytes=4)
    stream.append(b"ab")
    stream.append(b"0123456789", last=True)
    assert await _collect(stream, 0) == [(2, b"0123456789")]


async def test_a_source_that_ends_without_a_message_ends_the_stream() -> None:
    queue: asyncio.Queue[tuple[bytes, bool] | None] = asyncio.Queue()
    queue.put_nowait(None)
    stream = _stream(queue)
    assert await _collect(stream, 0) == []
    assert stream.ended


async def test_a_quiet_source_yields_keepalives_and_loses_nothing() -> None:
    queue: asyncio.Queue[tuple[bytes, bool] | None] = asyncio.Queue()
    stream = _stream(queue)
    waits = iter([0.0])  # no wait at all the first time, then no limit
    follower = stream.follow(0, lambda: next(waits, None))
    assert await follower.__anext__() is KEEPALIVE
    queue.put_nowait((b"late", True))
    items = [item async for item in follower if item is not KEEPALIVE]
    assert items == [(1, b"late")]


async def test_registry_finds_a_stream_by_event_id() -> None:
    queue: asyncio.Queue[tuple[bytes, bool] | None] = asyncio.Queue()
    registry = StreamRegistry(max_events=10, max_bytes=1000)
    stream = registry.open(_queue_source(queue), "request")
    assert registry.find(stream.event_id(3)) == (stream, 3)
    assert registry.find("nonsense") is None
    assert registry.find(f"{stream.id}:x") is None
    assert registry.find("999:1") is None


async def test_registry_forgets_the_oldest_unread_streams_beyond_its_bound_ended_ones_first() -> None:
    queue: asyncio.Queue[tuple[bytes, bool] | None] = asyncio.Queue()
    registry = StreamRegistry(max_events=10, max_bytes=1000, retained=2)
    first = registry.open(_queue_source(queue), "request")
    second = registry.open(_queue_source(queue), "request")
    second.append(b"done", last=True)
    read = registry.open(_queue_source(queue), "get")
    read.attach()
    registry.open(_queue_source(queue), "request")
    assert registry.find(second.event_id(0)) is None  # ended: forgotten first
    assert registry.find(first.event_id(0)) is not None
    assert registry.find(read.event_id(0)) is not None
    assert len(registry) == 3


class _Clock:
    """A hand-driven clock, so the replay window is tested without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_registry_forgets_a_stream_nobody_read_for_longer_than_the_window() -> None:
    queue: asyncio.Queue[tuple[bytes, bool] | None] = asyncio.Queue()
    clock = _Clock()
    registry = StreamRegistry(max_events=10, max_bytes=1000, window_s=30, clock=clock)
    stream = registry.open(_queue_source(queue), "request")
    stream.append(b"done", last=True)
    clock.now += 30
    assert registry.find(stream.event_id(0)) == (stream, 0)
    clock.now += 1
    assert registry.find(stream.event_id(0)) is None
    assert len(registry) == 0


async def test_a_stream_being_read_outlives_the_window() -> None:
    queue: asyncio.Queue[tuple[bytes, bool] | None] = asyncio.Queue()
    clock = _Clock()
    registry = StreamRegistry(max_events=10, max_bytes=1000, window_s=30, clock=clock)
    stream = registry.open(_queue_source(queue), "get")
    stream.attach()
    clock.now += 3600
    assert registry.find(stream.event_id(0)) == (stream, 0)


async def test_the_window_starts_when_the_last_reader_leaves() -> None:
    queue: asyncio.Queue[tuple[bytes, bool] | None] = asyncio.Queue()
    clock = _Clock()
    registry = StreamRegistry(max_events=10, max_bytes=1000, window_s=30, clock=clock)
    stream = registry.open(_queue_source(queue), "request")
    stream.attach()
    clock.now += 100
    stream.detach()  # the connection dropped: the client has 30 s from now to resume
    clock.now += 29
    assert registry.find(stream.event_id(0)) == (stream, 0)
    clock.now += 2
    assert registry.find(stream.event_id(0)) is None
