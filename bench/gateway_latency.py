"""Added latency and throughput of the gateway for a small tools/call.

Starts one SDK server (Streamable HTTP) and the gateway in front of it, then alternates
rounds against the server directly and through the gateway, with the same concurrent
clients, in one run, so machine noise hits both sides alike. Prints p50/p99 per side, the
added latency and the throughput ratio.

    .venv/bin/python bench/gateway_latency.py [--rounds 6] [--calls 300] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from gwtest.procs import FEATURES_SERVER, gateway, http_server, http_upstream  # noqa: E402, http_upstream
from gwtest.raw import HEADERS, init_body  # noqa: E402


async def open_session(client: httpx.AsyncClient, url: str) -> dict[str, str]:
    r = await client.post(url, content=orjson.dumps(init_body()), headers=HEADERS)
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
    return latencies, len(latencies) / elapsed


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=8, help="clients in the throughput phase")
    ap.add_argument(
        "--guards",
        choices=["core", "default"],
        default="core",
        help="core: the relay with audit, tool filter and size cap (content defense off); "
        "default: every default guard, content spotlighting and injection scanning included",
    )
    args = ap.parse_args()

    with http_server(FEATURES_SERVER, "--name", "bench") as (upstream_url, _):
        # Audit on (fsync interval), pinning and poisoning on (defaults); content per --guards.
        upstream = http_upstream(upstream_url)
        if args.guards == "default":
            del upstream["content"]
        config = {"upstreams": {"bench": upstream}, "audit": {"path": "audit.jsonl", "fsync": "interval"}}
        with gateway(config) as gw:
            targets = {"direct": upstream_url, "gateway": gw.url("bench")}
            for url in targets.values():
                asyncio.run(round_(url, 100, 2))  # warm-up
            phases = {"latency": 1, "throughput": args.concurrency}
            lat = {(p, k): [] for p in phases for k in targets}  # type: dict[tuple[str, str], list[float]]
            rps = {(p, k): [] for p in phases for k in targets}  # type: dict[tuple[str, str], list[float]]
            for r in range(args.rounds):
                order = ["direct", "gateway"] if r % 2 == 0 else ["gateway", "direct"]
                for phase, conc in phases.items():
                    for name in order:
                        values, throughput = asyncio.run(round_(targets[name], args.calls, conc))
                        lat[(phase, name)].extend(values)
                        rps[(phase, name)].append(throughput)

    print(
        f"tools/call (echo), guards={args.guards}, {args.rounds} alternating rounds x {args.calls} calls each"
    )
    for phase, conc in phases.items():
        d, g = lat[(phase, "direct")], lat[(phase, "gateway")]
        drps, grps = statistics.median(rps[(phase, "direct")]), statistics.median(rps[(phase, "gateway")])
        print(f"\n{phase} phase, {conc} concurrent client(s)")
        print(f"{'':10}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}")
        print(f"{'direct':10}{pct(d, 0.5):10.2f}{pct(d, 0.99):10.2f}{drps:10.0f}")
        print(f"{'gateway':10}{pct(g, 0.5):10.2f}{pct(g, 0.99):10.2f}{grps:10.0f}")
        added50, added99 = pct(g, 0.5) - pct(d, 0.5), pct(g, 0.99) - pct(d, 0.99)
        print(
            f"added latency p50 {added50:+.2f} ms, p99 {added99:+.2f} ms; "
            f"ratio p50 {pct(g, 0.5) / pct(d, 0.5):.2f}x; throughput gateway/direct {grps / drps:.1%}"
        )


if __name__ == "__main__":
    main()
