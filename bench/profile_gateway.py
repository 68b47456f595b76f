"""Where the gateway process spends its CPU on a small tools/call, guards off against default guards.

`bench/profile_guards.py` times the guards in process; this samples the real gateway process
(py-spy, native frames off, idle time excluded) while one client calls `echo` through it,
so the relay's own costs are in the picture: the event loop, the socket writes to the
upstream and to the client, the audit trail. One gateway serves two upstream names for the
same SDK server, `bare` (content, pinning and poisoning off; audit on) and `guarded` (the
default guards, content scan without spotlighting), and the two are measured in alternating
rounds. Each sample is put in the first category whose frames it holds:

- guards: a guard's hook (`mcpwarden/guards/`), the content scan included;
- audit: writing and sealing audit records (`mcpwarden/audit/`);
- upstream write: aiohttp sending the request to the upstream (`http_writer`): on loopback the
  kernel also runs the receiving side's TCP work inside this call;
- client send: uvicorn writing the response to the client;
- relay, Python: the rest of the gateway's Python frames;
- event loop (C): samples whose innermost Python frame is the loop's `run` (uvloop's C code:
  polling, reading sockets, callbacks, parsing HTTP in httptools).

Samples of helper threads blocked on a lock or queue (the audit writer between flushes, idle
thread-pool workers) are dropped: they are not CPU. py-spy samples wall time of threads that
are not idle, so on a busy machine a thread waiting for a core inside a system call counts:
read shares within one run, and take CPU per call from the /proc line.

Also prints CPU per call from /proc for each round (measured without the sampler attached).

    nice -n 5 .venv/bin/python bench/profile_gateway.py [--payload 200] [--calls 1500] [--rounds 2] [--top 40]

`--top N` also lists, per target, the N frames with the most samples as the innermost frame
(own time) and anywhere on the stack (inclusive).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from gateway_latency import cpu_s, round_  # noqa: E402

from gwtest.procs import FEATURES_SERVER, gateway, http_server, http_upstream  # noqa: E402

PY_SPY = Path(sys.executable).parent / "py-spy"
CATEGORIES = (
    ("guards", ("(mcpwarden/guards/",)),
    ("audit", ("(mcpwarden/audit/",)),
    ("upstream write", ("aiohttp/http_writer.py",)),
    ("client send", ("RequestResponseCycle.send",)),
)

# Innermost frames of a thread blocked on a lock or a queue (a thread pool's idle worker
# shows as `_worker`, its queue read being C code): not CPU, though py-spy reports them.
WAITS = ("Condition.wait ", "Event.wait ", "Queue.get ", "_worker (concurrent/futures/thread.py")


def busy_stacks(raw: Path) -> Iterator[tuple[str, list[str], int]]:
    """(stack, its frames, samples) from py-spy's raw (collapsed) output, `frame;frame;... count`,
    without the stacks of helper threads blocked on a lock (py-spy does not always see them as idle)."""
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and not (frames := stack.split(";"))[-1].startswith(WAITS):
            yield stack, frames, int(n)


def categorize(raw: Path) -> collections.Counter[str]:
    """Samples per category."""
    counts: collections.Counter[str] = collections.Counter()
    for stack, frames, n in busy_stacks(raw):
        name = next((c for c, keys in CATEGORIES if any(k in stack for k in keys)), None)
        if name is None:
            name = "event loop (C)" if frames[-1].startswith("Runner.run ") else "relay, Python"
        counts[name] += n
    return counts


def hot_frames(raw: Path) -> tuple[collections.Counter[str], collections.Counter[str]]:
    """Samples per frame: as the innermost frame (own time) and anywhere in the stack (inclusive)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    for _, frames, n in busy_stacks(raw):
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    return own, inclusive


def print_hot(
    name: str, own: collections.Counter[str], inclusive: collections.Counter[str], top: int
) -> None:
    total = max(1, sum(own.values()))
    for label, counts in (("own", own), ("inclusive", inclusive)):
        print(f"\n{name}: top {top} frames by {label} samples (share of all samples)")
        for frame, n in counts.most_common(top):
            print(f"  {n / total:6.1%}  {frame}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--payload", type=int, default=200, help="bytes of echoed text")
    ap.add_argument("--calls", type=int, default=1500, help="calls per round")
    ap.add_argument("--rounds", type=int, default=2, help="rounds per target, alternating")
    ap.add_argument("--top", type=int, default=0, help="also list the N hottest frames per target")
    args = ap.parse_args()
    prose = "The quarterly report lists revenue by region and the notes explain each change. "
    text = (prose * (args.payload // len(prose) + 1))[: args.payload]
    out = Path(tempfile.mkdtemp(prefix="profile-gateway-"))
    cpu: dict[str, list[float]] = collections.defaultdict(list)
    samples: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    own: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    inclusive: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    with http_server(FEATURES_SERVER, "--name", "bench") as (upstream_url, _):
        guarded = http_upstream(upstream_url)
        guarded["content"] = {"spotlight": "never"}
        bare = http_upstream(upstream_url, pinning="off", on_poisoning="off")
        config = {
            "upstreams": {"guarded": guarded, "bare": bare},
            "audit": {"path": "audit.jsonl", "fsync": "interval"},
        }
        with gateway(config) as gw:
            pid = gw.proc.pid
            for name in ("bare", "guarded"):
                asyncio.run(round_(gw.url(name), 200, 1, text))  # warm: models loaded, pools open
            for r in range(args.rounds):
                for name in ("bare", "guarded"):
                    before = cpu_s(pid)
                    latencies, _ = asyncio.run(round_(gw.url(name), args.calls, 1, text))
                    cpu[name].append((cpu_s(pid) - before) / len(latencies) * 1000)
                    raw = out / f"{name}-{r}.txt"
                    spy = subprocess.Popen(
                        [str(PY_SPY), "record", "-p", str(pid), "-r", "250", "-f", "raw", "-o", str(raw)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    )  # fmt: skip
                    time.sleep(1.0)  # attached before the round starts
                    asyncio.run(round_(gw.url(name), args.calls, 1, text))
                    spy.send_signal(2)
                    spy.wait(60)
                    if raw.exists():
                        samples[name] += categorize(raw)
                        frames = hot_frames(raw)
                        own[name] += frames[0]
                        inclusive[name] += frames[1]
    print(
        f"tools/call echo, {args.payload}-byte text, 1 client, {args.rounds} x {args.calls} calls per target"
    )
    print("gateway CPU per call (ms, per round): " + "; ".join(
        f"{n} {', '.join(f'{v:.2f}' for v in vs)}" for n, vs in cpu.items()
    ))  # fmt: skip
    names = [c for c, _ in CATEGORIES] + ["relay, Python", "event loop (C)"]
    print(f"\n{'share of samples':18s} {'bare':>8s} {'guarded':>8s}")
    for category in names:
        cells = [samples[t][category] / max(1, sum(samples[t].values())) for t in ("bare", "guarded")]
        print(f"{category:18s} {cells[0]:8.1%} {cells[1]:8.1%}")
    print(f"{'samples':18s} {sum(samples['bare'].values()):8d} {sum(samples['guarded'].values()):8d}")
    if args.top:
        for name in ("bare", "guarded"):
            print_hot(name, own[name], inclusive[name], args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
