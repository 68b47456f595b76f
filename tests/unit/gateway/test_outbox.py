"""Bounded client buffers: progress dropped first, then the slow consumer closed."""

from __future__ import annotations

import asyncio
from typing import Any

from mcpwarden.gateway.outbox import Outbox, SessionBudget, SessionQueue


def progress(i: int) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "notifications/progress",
        "params": {"progressToken": 1, "progress": i},
    }


def log(i: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": i}}


class Events:
    def __init__(self, last: dict[str, Any] | None = None) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.last = last

    def __call__(self, what: str, details: dict[str, Any]) -> dict[str, Any] | None:
        self.seen.append((what, details))
        return self.last if what == "closed" else None


def drain(box: Outbox) -> list[Any]:
    async def run() -> list[Any]:
        out = []
        while True:
            item = await box.get()
            if item is None:
                return out
            out.append(item.msg)

    return asyncio.run(run())


def test_flood_of_progress_never_queues_more_than_the_limit() -> None:
    events = Events()
    box = Outbox(max_messages=10, on_overflow=events)
    for i in range(200_000):
        box.put(progress(i))
    assert len(box) == 10 and box.peak_messages == 10
    assert box.dropped_progress == 200_000 - 10
    assert [w for w, _ in events.seen] == ["progress_dropped"]  # reported once, not per message


def test_queued_progress_makes_room_for_other_messages() -> None:
    box = Outbox(max_messages=3)
    for i in range(3):
        box.put(progress(i))
    assert box.put(log(1)) and box.put(log(2))
    box.end()
    methods = [m["method"] for m in drain(box)]
    assert methods == ["notifications/progress", "notifications/message", "notifications/message"]


def test_slow_consumer_of_non_droppable_messages_is_closed_with_a_last_word() -> None:
    last = {"jsonrpc": "2.0", "id": 5, "error": {"code": -32001, "message": "slow"}}
    events = Events(last)
    box = Outbox(max_messages=4, on_overflow=events)
    results = [box.put(log(i)) for i in range(10)]
    assert results == [True] * 4 + [False] * 6
    assert box.closed
    assert events.seen[-1][0] == "closed" and events.seen[-1][1]["queued_messages"] == 4
    assert drain(box) == [last]


def test_final_response_is_accepted_even_when_the_stream_is_full() -> None:
    box = Outbox(max_messages=2)
    box.put(log(1))
    box.put(log(2))
    final = {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert box.put(final, final=True)
    box.end()
    assert drain(box)[-1] == final


def test_byte_limit_counts_serialized_size() -> None:
    box = Outbox(max_bytes=1000)
    big = {"jsonrpc": "2.0", "method": "notifications/message", "params": {"data": "x" * 600}}
    assert box.put(big)
    assert not box.put(big)
    assert box.closed


def test_session_budget_closes_the_slowest_stream_not_the_one_pushing() -> None:
    budget = SessionBudget(max_bytes=2000)
    slow_events, fast_events = Events(), Events()
    slow = Outbox(budget, on_overflow=slow_events)
    fast = Outbox(budget, on_overflow=fast_events)
    while slow.put(log(0)) and budget.used < 1900:
        pass
    assert fast.put(log(1))  # pushes the session over budget: the slow stream pays
    assert slow.closed and not fast.closed
    assert [w for w, _ in slow_events.seen] == ["closed"] and fast_events.seen == []
    assert budget.used <= budget.max_bytes


def test_session_stream_closed_as_slow_consumer_ends_its_reader_and_starts_afresh() -> None:
    queue = SessionQueue(lambda: Outbox(max_messages=2))

    async def run() -> list[Any]:
        queue.put_nowait(log(0))
        assert (await queue.get()) == log(0)  # a reader that then stops reading
        for i in range(1, 6):
            queue.put_nowait(log(i))  # 1, 2 queued; 3 closes the outbox; 4, 5 dropped
        ended = await queue.get()  # what the stalled reader sees when it reads again
        queue.put_nowait(log(6))  # for the next stream
        return [ended, await queue.get()]

    assert [m if m is None else m["params"]["data"] for m in asyncio.run(run())] == [None, 6]


def test_wrapper_stream_carries_on_after_an_overflow() -> None:
    queue = SessionQueue(lambda: Outbox(max_messages=2), resume=True)

    async def run() -> list[Any]:
        queue.put_nowait(log(0))
        assert (await queue.get()) == log(0)
        for i in range(1, 6):
            queue.put_nowait(log(i))  # 1, 2 queued; 3 closes the outbox; 4, 5 go to a fresh one
        return [await queue.get(), await queue.get()]

    assert [m["params"]["data"] for m in asyncio.run(run())] == [4, 5]


def test_abandoned_stream_stops_counting_against_the_session() -> None:
    budget = SessionBudget()
    box = Outbox(budget)
    for i in range(50):
        box.put(log(i))
    assert budget.used > 0
    del box
    assert budget.used == 0
