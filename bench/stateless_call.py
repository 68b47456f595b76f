"""Added latency and throughput of a stateless (2026-07-28) tools/call through the gateway.

Starts one SDK server (Streamable HTTP, 2025-11-25: the SDK the project pins speaks no
stateless revision) and the gateway in front of it, then alternates rounds in one run so
machine noise hits every target alike:

- `direct`: the upstream itself, over a session opened beforehand (the least a client can pay);
- `gw-session`: the gateway's handshake era, over a gateway session opened beforehand;
- `gw-stateless`: the gateway's stateless era, every request carrying `_meta` and the
  mirrored headers, no session id (the gateway runs it on the principal's pooled session).

Prints p50/p99 per target, the p50 overhead against `direct` and the throughput ratios.

    .venv/bin/python bench/stateless_call.py [--rounds 6] [--calls 300] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from gwtest.procs import FEATURES_SERVER, gateway, http_server, http_upstream  # noqa: E402
from gwtest.raw import HEADERS, init_body, stateless_meta  # noqa: E402

Headers = dict[str, str]


async def session_headers(client: httpx.AsyncClient, url: str) -> Headers:
    r = await client.post(url, content=orjson.dumps(init_body()), headers=HEADERS)
    h = {**HEADERS, "mcp-session-id": r.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
    await client.post(url, content=b'{"jsonrpc":"2.0","method":"notifications/initialized"}', headers=h)
    return h


def session_body(i: int) -> bytes:
    params = {"name": "echo", "arguments": {"text": "ping"}}
    return orjson.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": params})


def stateless_body(i: int) -> bytes:
    params = {"name": "echo", "arguments": {"text": "ping"}, "_meta": stateless_meta()}
    return orjson.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": params})


STATELESS_HEADERS: Headers = {
    **HEADERS,
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "tools/call",
    "mcp-name": "echo",
}


async def round_(url: str, stateless: bool, calls: int, concurrency: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    make: Callable[[int], bytes] = stateless_body if stateless else session_body
    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        if stateless:
            headers: list[Headers] = [STATELESS_HEADERS] * concurrency
        else:
            headers = [await session_headers(client, url) for _ in range(concurrency)]
        per_worker = calls // concurrency

        async def worker(h: Headers) -> None:
            for i in range(per_worker):
                t0 = time.perf_counter()
                r = await client.post(url, content=make(i + 10), headers=h)
                latencies.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200 or b'"result"' not in r.content:
                    raise SystemExit(f"bad reply from {url}: {r.status_code} {r.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker(h) for h in headers))
        elapsed = time.perf_counter() - started
    return latencies, len(latencies) / elapsed


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    with http_server(FEATURES_SERVER) as (upstream_url, _):
        config: dict[str, Any] = {"upstreams": {"feat": http_upstream(upstream_url)}}
        with gateway(config) as gw:
            targets = {
                "direct": (upstream_url, False),
                "gw-session": (gw.url("feat"), False),
                "gw-stateless": (gw.url("feat"), True),
            }
            lat: dict[str, list[float]] = {k: [] for k in targets}
            tput: dict[str, list[float]] = {k: [] for k in targets}
            for url, stateless in targets.values():  # warm-up: pools, pooled session, imports
                asyncio.run(round_(url, stateless, args.concurrency * 4, args.concurrency))
            for _ in range(args.rounds):
                for name, (url, stateless) in targets.items():
                    values, rate = asyncio.run(round_(url, stateless, args.calls, args.concurrency))
                    lat[name] += values
                    tput[name].append(rate)
    base_p50 = statistics.median(lat["direct"])
    base_rate = statistics.median(tput["direct"])
    print(f"{'target':<14}{'p50 ms':>9}{'p99 ms':>9}{'+p50 ms':>9}{'calls/s':>10}{'ratio':>8}")
    for name in targets:
        p50 = statistics.median(lat[name])
        rate = statistics.median(tput[name])
        print(
            f"{name:<14}{p50:>9.2f}{pct(lat[name], 0.99):>9.2f}{p50 - base_p50:>9.2f}"
            f"{rate:>10.0f}{rate / base_rate:>8.2f}"
        )


if __name__ == "__main__":
    main()
