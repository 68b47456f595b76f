"""Added latency and throughput of the gateway for a small tools/call.

Starts one SDK server (Streamable HTTP) and the gateway in front of it, then alternates
rounds against the server directly and through the gateway, with the same concurrent
clients, in one run, so machine noise hits both sides alike. Prints p50/p99 per side, the
added latency and the throughput ratio.

    .venv/bin/python bench/gateway_latency.py [--rounds 6] [--calls 300] [--concurrency 8]

`--guards compare` puts three targets in the same alternating run: the upstream directly,
the gateway with its guards off (content, pinning and poisoning off; audit on) and the
gateway with the default guards (content scan without spotlighting, pinning `tofu`,
poisoning), both gateway targets served by one gateway process. `--payload N` makes the
echoed text N bytes long (default: "ping").

Besides latency and throughput it reports, per target, the CPU time the gateway process
(and the upstream) spent per call, read from /proc before and after each round (rounds
run one target at a time, so a round's CPU belongs to its target), and the gateway's
resident memory at the end, when the detection models have been loaded and used.

`--workers N` (N > 1) compares the upstream directly, one gateway process (`--workers 1`)
and a gateway of N worker processes (`serve --workers N`) in the same alternating run, with
the guards of `--guards core|default`. Each client session then has its own connection pool,
as an SDK client does, so a session's requests reach the worker that minted it; the share of
answers relayed through a sibling worker is printed. CPU per call of the N-worker gateway is
the supervisor's and every worker's together.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from gwtest.procs import FEATURES_SERVER, gateway, http_server, http_upstream  # noqa: E402, http_upstream
from gwtest.raw import HEADERS, init_body  # noqa: E402
from gwtest.workers import worker_gateway  # noqa: E402

RELAYED: list[int] = [0]  # answers that came through a sibling worker, over the whole run


async def open_session(client: httpx.AsyncClient, url: str) -> dict[str, str]:
    r = await client.post(url, content=orjson.dumps(init_body()), headers=HEADERS)
    h = {**HEADERS, "mcp-session-id": r.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
    await client.post(url, content=b'{"jsonrpc":"2.0","method":"notifications/initialized"}', headers=h)
    return h


async def round_(
    url: str, calls: int, concurrency: int, text: str = "ping", *, own_clients: bool = False
) -> tuple[list[float], float]:
    """`own_clients`: one connection pool per session (as SDK clients have), not one shared."""
    latencies: list[float] = []
    async with contextlib.AsyncExitStack() as stack:
        pools = concurrency if own_clients else 1
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency * 2))
            )
            for _ in range(pools)
        ]
        sessions = [
            (clients[i % pools], await open_session(clients[i % pools], url)) for i in range(concurrency)
        ]
        per_worker = calls // concurrency

        async def worker(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
            for i in range(per_worker):
                body = orjson.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": i + 10,
                        "method": "tools/call",
                        "params": {"name": "echo", "arguments": {"text": text}},
                    }
                )
                t0 = time.perf_counter()
                r = await client.post(url, content=body, headers=headers)
                r.raise_for_status()
                latencies.append(time.perf_counter() - t0)
                RELAYED[0] += "mcpwarden-relayed-by" in r.headers

        started = time.perf_counter()
        await asyncio.gather(*(worker(c, h) for c, h in sessions))
        elapsed = time.perf_counter() - started
    return latencies, len(latencies) / elapsed


@contextlib.contextmanager
def _python_path(src: str, start: Any) -> Iterator[Any]:
    """Enter `start()` (a process launcher) with PYTHONPATH=`src`, so the child imports that code."""
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(Path(src).resolve())
    try:
        with start() as started:
            if saved is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = saved
            yield started
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (Linux /proc; 0 elsewhere)."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return 0.0
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """`pid` and its descendants alive now (a supervisor and its workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    below = children.read_text().split() if children.exists() else []
    return [pid, *(p for child in below for p in tree(int(child)))]


def tree_cpu_s(pid: int) -> float:
    return sum(cpu_s(p) for p in tree(pid))


def tree_rss_mb(pid: int) -> float:
    return sum(rss_mb(p) for p in tree(pid))


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return 0.0
    for line in status.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _load() -> str:
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "?"


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
        choices=["core", "default", "compare"],
        default="core",
        help="core: the relay with audit, tool filter and size cap (content defense off); "
        "default: every default guard, content spotlighting and injection scanning included; "
        "compare: direct, guards off and default guards without spotlighting, in one run",
    )
    ap.add_argument("--payload", type=int, default=0, help="bytes of echoed text (0: 'ping')")
    ap.add_argument(
        "--before-src",
        metavar="DIR",
        help="with --guards compare: also run a second gateway from this `src` folder (an older "
        "checkout) with the same config, as targets 'off, before' and 'default, before'",
    )
    ap.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="N > 1: compare direct, one gateway process and `serve --workers N` in one run",
    )
    args = ap.parse_args()

    load_at_start = _load()
    prose = "The quarterly report lists revenue by region and the notes explain each change. "
    text = (prose * (args.payload // len(prose) + 1))[: args.payload] if args.payload else "ping"
    with http_server(FEATURES_SERVER, "--name", "bench") as (upstream_url, upstream_proc):
        # Audit on (fsync interval), pinning and poisoning on (defaults); content per --guards.
        upstream = http_upstream(upstream_url)
        upstreams = {"bench": upstream}
        if args.guards == "default":
            del upstream["content"]
        elif args.guards == "compare":
            upstream["content"] = {"spotlight": "never"}
            upstreams["bare"] = http_upstream(upstream_url, pinning="off", on_poisoning="off")
        config = {"upstreams": upstreams, "audit": {"path": "audit.jsonl", "fsync": "interval"}}
        with contextlib.ExitStack() as stack:
            gw = stack.enter_context(gateway(config))
            gateways = {"direct": gw, "guards off": gw, "default": gw, "gateway": gw}
            if args.guards == "compare":
                targets = {"direct": upstream_url, "guards off": gw.url("bare"), "default": gw.url("bench")}
                if args.before_src:
                    old = stack.enter_context(_python_path(args.before_src, lambda: gateway(config)))
                    targets |= {"off, before": old.url("bare"), "default, before": old.url("bench")}
                    gateways |= {"off, before": old, "default, before": old}
            elif args.workers > 1:
                many = stack.enter_context(worker_gateway(config, workers=args.workers))
                label = f"{args.workers} workers"
                targets = {"direct": upstream_url, "1 worker": gw.url("bench"), label: many.url("bench")}
                gateways |= {"1 worker": gw, label: many}
            else:
                targets = {"direct": upstream_url, "gateway": gw.url("bench")}
            own = args.workers > 1
            for url in targets.values():
                asyncio.run(round_(url, 100, 2, text, own_clients=own))  # warm-up
            phases = {"latency": 1, "throughput": args.concurrency}
            lat = {(p, k): [] for p in phases for k in targets}  # type: dict[tuple[str, str], list[float]]
            rps = {(p, k): [] for p in phases for k in targets}  # type: dict[tuple[str, str], list[float]]
            # CPU seconds and calls per (phase, target): gateway process, upstream process.
            cpu = {(p, k): [0.0, 0.0, 0] for p in phases for k in targets}  # type: dict[tuple[str, str], list[float]]
            names = list(targets)
            for r in range(args.rounds):
                order = names[r % len(names) :] + names[: r % len(names)]  # rotate who goes first
                for phase, conc in phases.items():
                    for name in order:
                        pid = gateways[name].proc.pid
                        g0, u0 = tree_cpu_s(pid), cpu_s(upstream_proc.pid)
                        values, throughput = asyncio.run(
                            round_(targets[name], args.calls, conc, text, own_clients=own)
                        )
                        used = cpu[(phase, name)]
                        used[0] += tree_cpu_s(pid) - g0
                        used[1] += cpu_s(upstream_proc.pid) - u0
                        used[2] += len(values)
                        lat[(phase, name)].extend(values)
                        rps[(phase, name)].append(throughput)
            memory = {
                id(g): (name, tree_rss_mb(g.proc.pid)) for name, g in gateways.items() if name in targets
            }

    print(
        f"tools/call (echo, {len(text)}-byte text), guards={args.guards}, "
        f"{args.rounds} alternating rounds x {args.calls} calls each; load average {_load()} "
        f"(start: {load_at_start})"
    )
    for phase, conc in phases.items():
        d = lat[(phase, "direct")]
        drps = statistics.median(rps[(phase, "direct")])
        print(f"\n{phase} phase, {conc} concurrent client(s)")
        heads = "".join(f"{h:>10}" for h in ("p50 ms", "p99 ms", "req/s"))
        print(
            f"{'':12}{heads}{'added p50':>11}{'added p99':>11}{'vs direct':>11}"
            f"{'gw CPU/call':>13}{'up CPU/call':>13}"
        )
        for name in names:
            g = lat[(phase, name)]
            grps = statistics.median(rps[(phase, name)])
            print(
                f"{name:12}{pct(g, 0.5):10.2f}{pct(g, 0.99):10.2f}{grps:10.0f}"
                f"{pct(g, 0.5) - pct(d, 0.5):+11.2f}{pct(g, 0.99) - pct(d, 0.99):+11.2f}{grps / drps:11.1%}"
                f"{_per_call(cpu[(phase, name)], 0) if name != 'direct' else '-':>13}"
                f"{_per_call(cpu[(phase, name)], 1):>13}"
            )
    print()
    if args.workers > 1:
        print(f"answers relayed through a sibling worker: {RELAYED[0]}")
    for name, mb in memory.values():
        print(f"gateway process serving {name!r}: {mb:.0f} MB resident at the end (models loaded)")


def _per_call(used: list[float], which: int) -> str:
    return f"{used[which] / max(1, used[2]) * 1000:.2f} ms"


if __name__ == "__main__":
    main()
