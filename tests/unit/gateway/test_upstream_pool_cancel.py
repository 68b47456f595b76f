"""A task cancelled while it waits for an upstream connection slot stays cancelled.

On Python 3.11 `asyncio.wait_for` hands back the acquired semaphore when the cancellation and
the acquisition land in the same loop turn, so the cancelled task went on: a session closed
by DELETE right after `notifications/initialized` kept its GET stream open and the DELETE
waited for it forever (the conformance suite's session-lifecycle scenario timed out about
once in ten runs)."""

from __future__ import annotations

import asyncio

import pytest

from mcpwarden.gateway.upstream.pools import Pool

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_cancelling_a_slot_wait_is_never_swallowed() -> None:
    pool = Pool("up", "stream", 4, 30.0, client=None)  # type: ignore[arg-type]

    async def hold_stream() -> None:
        async with pool.slot():
            await asyncio.Event().wait()

    for _ in range(20):  # the race is per loop turn: try it at each offset
        task = asyncio.create_task(hold_stream())
        await asyncio.sleep(0)
        task.cancel()
        for _ in range(10):
            await asyncio.sleep(0)
        assert task.cancelled()
    assert pool.in_use == 0 and pool.waiting == 0


async def test_a_slot_freed_by_cancellation_is_available_again() -> None:
    pool = Pool("up", "request", 1, 30.0, client=None)  # type: ignore[arg-type]
    task = asyncio.create_task(_hold(pool))
    await asyncio.sleep(0)
    task.cancel()
    for _ in range(10):
        await asyncio.sleep(0)
    async with pool.slot():
        assert pool.in_use == 1


async def _hold(pool: Pool) -> None:
    async with pool.slot():
        await asyncio.Event().wait()
