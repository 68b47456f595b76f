"""Connection pools per HTTP upstream, with bounded waits and an honest health report.

One shared pool let a single slow or hostile upstream (or a thousand idle sessions, each
holding a GET stream) take every connection, after which every request waited forever.
Here each upstream gets two pools of its own: one for requests (POST, DELETE) and one for
long-lived GET streams, so idle streams can never starve calls. Waiting for a free
connection is bounded by `pool_timeout_s`; a wait that runs out fails the request with a
clear error and marks the pool as stalled for the health check.

Each pool's aiohttp connector resolves names through the upstream's egress policy, so the
SSRF checks happen on the addresses actually connected to.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcpwarden.config import HttpUpstream
from mcpwarden.egress import EgressPolicy
from mcpwarden.gateway.upstream.base import UpstreamError

if TYPE_CHECKING:
    import aiohttp

# Shorter than common server keep-alive timeouts (uvicorn closes idle connections after
# 5 s): reusing a connection the server is closing at that instant fails a POST, which
# cannot be retried safely. Idle connections are dropped well before the server does it.
KEEPALIVE_S = 2.0
# How long a pool counts as stalled after a wait for a connection ran out.
STALL_MEMORY_S = 30.0


@dataclass(slots=True)
class Pool:
    """One bounded set of connections; `slot()` waits at most `timeout` for a free one."""

    upstream: str
    kind: str
    limit: int
    timeout: float
    client: aiohttp.ClientSession
    _sem: asyncio.Semaphore = field(init=False)
    in_use: int = 0
    waiting: int = 0
    timeouts: int = 0
    last_timeout: float | None = None

    def __post_init__(self) -> None:
        self._sem = asyncio.Semaphore(self.limit)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[aiohttp.ClientSession]:
        self.waiting += 1
        try:
            # Not `asyncio.wait_for`: on Python 3.11 it returns the acquired slot when the
            # caller is cancelled in the same instant, swallowing the cancellation (a closing
            # session's GET task then went on listening and its DELETE never finished).
            async with asyncio.timeout(self.timeout):
                await self._sem.acquire()
        except TimeoutError:
            self.timeouts += 1
            self.last_timeout = time.monotonic()
            raise UpstreamError(
                f"upstream {self.upstream!r}: all {self.limit} {self.kind} connections stayed busy for "
                f"{self.timeout:g}s (raise upstreams.{self.upstream}."
                f"{'max_streams' if self.kind == 'stream' else 'max_connections'} if this load is expected)",
                reason="upstream.pool_exhausted",
            ) from None
        finally:
            self.waiting -= 1
        self.in_use += 1
        try:
            yield self.client
        finally:
            self.in_use -= 1
            self._sem.release()

    def stalled(self, now: float) -> bool:
        return self.last_timeout is not None and now - self.last_timeout < STALL_MEMORY_S

    def report(self, now: float) -> dict[str, Any]:
        return {
            "in_use": self.in_use,
            "limit": self.limit,
            "waiting": self.waiting,
            "timeouts": self.timeouts,
            "stalled": self.stalled(now),
        }


def _session(config: HttpUpstream, policy: EgressPolicy, limit: int) -> aiohttp.ClientSession:
    # Imported here, when an HTTP upstream is built: a gateway of stdio upstreams (every
    # `mcpwarden wrap`) does not pay aiohttp's import at start.
    import aiohttp

    from mcpwarden.gateway.upstream.resolver import EgressResolver

    connector = aiohttp.TCPConnector(
        limit=limit,
        limit_per_host=0,
        resolver=EgressResolver(policy),
        keepalive_timeout=KEEPALIVE_S,
    )
    return aiohttp.ClientSession(
        connector=connector,
        # The pool slot is taken before aiohttp sees the request, so its own limit never waits;
        # `sock_connect` bounds reaching the upstream, the caller bounds the whole request.
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=config.connect_timeout_s),
        auto_decompress=True,
        trust_env=False,
    )


@dataclass(slots=True)
class UpstreamPool:
    """The two pools and the egress policy of one HTTP upstream."""

    policy: EgressPolicy
    calls: Pool
    streams: Pool

    @classmethod
    def build(cls, name: str, config: HttpUpstream) -> UpstreamPool:
        policy = EgressPolicy.build(name, config.egress, config.allow_private)
        calls = Pool(
            name, "request", config.max_connections, config.pool_timeout_s,
            _session(config, policy, config.max_connections),
        )  # fmt: skip
        streams = Pool(
            name, "stream", config.max_streams, config.pool_timeout_s,
            _session(config, policy, config.max_streams),
        )  # fmt: skip
        return cls(policy, calls, streams)

    async def close(self) -> None:
        await self.calls.client.close()
        await self.streams.client.close()


class UpstreamPools:
    """All HTTP upstreams' pools, created on first use inside the running loop."""

    def __init__(self, upstreams: dict[str, Any]) -> None:
        self._configs = {n: c for n, c in upstreams.items() if isinstance(c, HttpUpstream)}
        self._pools: dict[str, UpstreamPool] = {}

    def for_upstream(self, name: str) -> UpstreamPool:
        pool = self._pools.get(name)
        if pool is None:
            pool = self._pools[name] = UpstreamPool.build(name, self._configs[name])
        return pool

    def health(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, per-upstream report): unhealthy while a request pool is stalled."""
        now = time.monotonic()
        report = {
            name: {"requests": p.calls.report(now), "streams": p.streams.report(now)}
            for name, p in sorted(self._pools.items())
        }
        healthy = not any(p.calls.stalled(now) for p in self._pools.values())
        return healthy, report

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self._pools.values()), return_exceptions=True)
        self._pools.clear()
