"""Replicas: two behind the balancer against one, and PostgreSQL/Redis against SQLite.

One SDK server (Streamable HTTP, `echo`) and, in one run, four setups in front of it:

* `sqlite`: one gateway on the embedded SQLite store (the baseline);
* `postgres`: one gateway on PostgreSQL + Redis (what the shared backends add per call);

Every setup has a (never reached) per-tool rate limit, so each call takes a token: from
an in-process bucket on SQLite, from the shared Redis bucket (one script round trip) on
PostgreSQL + Redis. The kill switch is on in both (cached; re-read only on a change).

* `lb-1`: the balancer in front of that one PostgreSQL gateway (what the balancer adds);
* `lb-2`: the balancer in front of two PostgreSQL replicas (what a second replica buys).

Rounds alternate between the setups with the same concurrent clients, so machine noise
hits all alike; the report gives p50/p99 per setup and the ratios that matter:
postgres/sqlite per-call latency, lb-2/lb-1 throughput and p99. On a machine with few
cores the replicas share them, so "two replicas" measures overhead and fairness more
than scale: read the throughput ratio with the core count next to it.

    .venv/bin/python bench/replicas.py [--rounds 4] [--calls 400] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from gwtest.cluster import start_balancer, start_replica, store_section  # noqa: E402
from gwtest.procs import FEATURES_SERVER, gateway, http_server, http_upstream  # noqa: E402
from gwtest.raw import HEADERS, init_body  # noqa: E402
from gwtest.services import postgres_or_skip, redis_or_skip, scratch_prefix, scratch_schema  # noqa: E402


async def open_session(client: httpx.AsyncClient, url: str) -> dict[str, str]:
    r = await client.post(url, content=orjson.dumps(init_body()), headers=HEADERS)
    r.raise_for_status()
    h = {**HEADERS, "mcp-session-id": r.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
    await client.post(url, content=b'{"jsonrpc":"2.0","method":"notifications/initialized"}', headers=h)
    return h


async def round_(url: str, calls: int, concurrency: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency * 2)) as client:
        sessions = [await open_session(client, url) for _ in range(concurrency)]
        per_worker = calls // concurrency

        async def worker(headers: dict[str, str]) -> None:
            for i in range(per_worker):
                body = orjson.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": i + 10,
                        "method": "tools/call",
                        "params": {"name": "echo", "arguments": {"text": "ping"}},
                    }
                )
                t0 = time.perf_counter()
                r = await client.post(url, content=body, headers=headers)
                r.raise_for_status()
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(worker(h) for h in sessions))
        elapsed = time.perf_counter() - started
        for h in sessions:
            await client.delete(url, headers=h)
    return latencies, len(latencies) / elapsed


def feed_delivery(prefix: str, count: int = 200) -> list[float]:
    """Seconds from one replica's publish to the other's generation bump (the change feed)."""
    from gwtest.services import REDIS_URL
    from mcpwarden.store.changes import ChangeFeed

    a, b = ChangeFeed(REDIS_URL, prefix, "a"), ChangeFeed(REDIS_URL, prefix, "b")
    try:
        if not (a.start(wait_s=10) and b.start(wait_s=10)):
            raise RuntimeError("the change feed did not subscribe")
        out = []
        for _ in range(count):
            before = b.generation("pins")
            t0 = time.perf_counter()
            a.publish("pins")
            while b.generation("pins") == before:
                time.sleep(0.0002)
            out.append(time.perf_counter() - t0)
        return out
    finally:
        a.close()
        b.close()


def bucket_cost(prefix: str, count: int = 2000) -> dict[str, list[float]]:
    """Seconds per take: the in-process bucket against the shared Redis bucket (one script)."""
    import redis

    from gwtest.services import REDIS_URL
    from mcpwarden.admin.ratelimit import Rate, TokenBuckets
    from mcpwarden.admin.ratelimit_redis import RedisTokenBuckets

    client = redis.Redis.from_url(REDIS_URL)
    limit = Rate(1_000_000, 1_000_000)
    out: dict[str, list[float]] = {}
    try:
        for name, buckets in (("memory", TokenBuckets()), ("redis", RedisTokenBuckets(client, prefix))):
            times = []
            for i in range(count):
                t0 = time.perf_counter()
                buckets.acquire(f"t:bench/{i % 50}", limit)
                times.append(time.perf_counter() - t0)
            out[name] = times
    finally:
        client.close()
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    postgres_or_skip()
    redis_or_skip()
    with contextlib.ExitStack() as stack:
        upstream_url, _ = stack.enter_context(http_server(FEATURES_SERVER))
        upstreams = {"feat": http_upstream(upstream_url, pinning="tofu")}
        limits = {"per_tool": {"rate": 1_000_000, "burst": 1_000_000}}
        sqlite_gw = stack.enter_context(gateway({"upstreams": upstreams, "limits": limits}))
        schema = stack.enter_context(scratch_schema())
        prefix = stack.enter_context(scratch_prefix())
        workdir = Path(stack.enter_context(__import__("tempfile").TemporaryDirectory(prefix="mcpw-bench-")))
        config = {"upstreams": upstreams, "store": store_section(schema, prefix), "limits": limits}
        r1 = stack.enter_context(start_replica(workdir, "a", config, stack))
        r2 = stack.enter_context(start_replica(workdir, "b", config, stack))
        lb1, _ = start_balancer([r1.base], stack)
        lb2, _ = start_balancer([r1.base, r2.base], stack)
        setups = {
            "sqlite": sqlite_gw.url("feat"),
            "postgres": r1.url("feat"),
            "lb-1": f"{lb1}/servers/feat/mcp",
            "lb-2": f"{lb2}/servers/feat/mcp",
        }
        lat: dict[str, list[float]] = {k: [] for k in setups}
        tput: dict[str, list[float]] = {k: [] for k in setups}
        feed = feed_delivery(prefix)
        buckets = bucket_cost(prefix)
        asyncio.run(round_(setups["sqlite"], args.concurrency * 4, args.concurrency))  # warm up
        for _ in range(args.rounds):
            for name, url in setups.items():
                values, rate = asyncio.run(round_(url, args.calls, args.concurrency))
                lat[name] += values
                tput[name].append(rate)
    print(
        f"cores: {os.cpu_count()}, load: {os.getloadavg()[0]:.1f}, rounds: {args.rounds}, "
        f"calls/round: {args.calls}, concurrency: {args.concurrency}"
    )
    print(f"{'setup':<10} {'p50 ms':>8} {'p99 ms':>8} {'calls/s':>9}")
    rate = {k: statistics.median(v) for k, v in tput.items()}
    for name in setups:
        print(f"{name:<10} {pct(lat[name], 0.5):>8.2f} {pct(lat[name], 0.99):>8.2f} {rate[name]:>9.0f}")
    print(
        f"postgres/sqlite  p50 {pct(lat['postgres'], 0.5) / pct(lat['sqlite'], 0.5):.2f}x, "
        f"p99 {pct(lat['postgres'], 0.99) / pct(lat['sqlite'], 0.99):.2f}x, "
        f"throughput {rate['postgres'] / rate['sqlite']:.2f}x"
    )
    print(
        f"lb-2/lb-1        throughput {rate['lb-2'] / rate['lb-1']:.2f}x, "
        f"p99 {pct(lat['lb-2'], 0.99) / pct(lat['lb-1'], 0.99):.2f}x"
    )
    print(
        f"change feed      publish -> other replica p50 {pct(feed, 0.5):.2f} ms, p99 {pct(feed, 0.99):.2f} ms"
    )
    mem, red = buckets["memory"], buckets["redis"]
    print(
        f"rate bucket      per take: memory p50 {pct(mem, 0.5):.3f} ms, p99 {pct(mem, 0.99):.3f} ms; "
        f"redis p50 {pct(red, 0.5):.3f} ms, p99 {pct(red, 0.99):.3f} ms"
    )
    print(f"lb-1/postgres    p50 {pct(lat['lb-1'], 0.5) / pct(lat['postgres'], 0.5):.2f}x (the balancer hop)")


if __name__ == "__main__":
    main()
