"""Cost of the content guard per result size (1 KB, 100 KB, 1 MB) against content off.

Two measurements in one run:

1. Through the real gateway: the SDK server bench/content_server.py over stdio behind two
   upstream entries, one with the default content policy and one with `content: off`;
   rounds alternate between them so machine noise hits both alike. Reports the median
   latency of a `tools/call` returning N characters of prose on each side, and the ratio.
2. In process: the median time of `ContentGuard.tool_result` alone on the same results,
   which is the guard's own cost without transport.

Usage: .venv/bin/python bench/content_cost.py [--rounds 4] [--calls 10]
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
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from content_server import prose  # noqa: E402

from gwtest.procs import PYTHON, gateway  # noqa: E402
from gwtest.raw import HEADERS, init_body  # noqa: E402
from mcpwarden.guards.base import Exchange  # noqa: E402
from mcpwarden.guards.content import ContentGuard  # noqa: E402

SIZES = {"1 KB": 1_000, "100 KB": 100_000, "1 MB": 1_000_000}
SERVER = ROOT / "bench" / "content_server.py"


async def _session(client: httpx.AsyncClient, url: str) -> dict[str, str]:
    r = await client.post(url, content=orjson.dumps(init_body()), headers=HEADERS)
    h = {**HEADERS, "mcp-session-id": r.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
    await client.post(url, content=b'{"jsonrpc":"2.0","method":"notifications/initialized"}', headers=h)
    return h


async def _calls(url: str, size: int, calls: int) -> list[float]:
    out: list[float] = []
    async with httpx.AsyncClient(timeout=120) as client:
        headers = await _session(client, url)
        for i in range(calls):
            body = orjson.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": i + 10,
                    "method": "tools/call",
                    "params": {"name": "document", "arguments": {"size": size}},
                }
            )
            t0 = time.perf_counter()
            r = await client.post(url, content=body, headers=headers)
            r.raise_for_status()
            if b'"error"' in r.content[:200]:
                raise RuntimeError(r.content[:300])
            out.append(time.perf_counter() - t0)
    return out


def _guard_ms(size: int, repeats: int) -> float:
    guard = ContentGuard({})
    text = prose(size)
    result = {"content": [{"type": "text", "text": text}], "structuredContent": {"result": text}}
    ex = Exchange("tools/call", "on", tool="document")
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        asyncio.run(guard.tool_result(ex, result))
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--calls", type=int, default=10)
    args = ap.parse_args()
    upstream = {"transport": "stdio", "command": PYTHON, "args": [str(SERVER)]}
    config = {"upstreams": {"on": {**upstream, "content": {}}, "off": {**upstream, "content": "off"}}}
    rows = []
    with gateway(config) as gw:
        for label, size in SIZES.items():
            on: list[float] = []
            off: list[float] = []
            asyncio.run(_calls(gw.url("on"), size, 2))  # warm both paths
            asyncio.run(_calls(gw.url("off"), size, 2))
            for _ in range(args.rounds):
                off += asyncio.run(_calls(gw.url("off"), size, args.calls))
                on += asyncio.run(_calls(gw.url("on"), size, args.calls))
            p_on, p_off = statistics.median(on) * 1000, statistics.median(off) * 1000
            rows.append((label, p_off, p_on, p_on / p_off, _guard_ms(size, 5)))
    print("| result | p50 content off (ms) | p50 content on (ms) | ratio on/off | guard alone (ms) |")
    print("|---|---:|---:|---:|---:|")
    for label, p_off, p_on, ratio, guard in rows:
        print(f"| {label} | {p_off:.1f} | {p_on:.1f} | {ratio:.2f} | {guard:.1f} |")


if __name__ == "__main__":
    main()
