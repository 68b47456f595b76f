"""What detection and response cost: all sinks, metrics, alerts and limits on against all off.

Starts one SDK server (Streamable HTTP) and two gateways in front of it: `off` writes the
audit file only; `on` also feeds a syslog (UDP, RFC 5424 + CEF), a webhook, an OTLP/HTTP
and a stdout sink, serves /metrics (with per-guard timing), runs anomaly detection, token
buckets and concurrency caps (set high enough never to refuse), and the admin API: the
issue's "all sinks and metrics on". `--tracing full` adds OpenTelemetry traces to `on`
(spans per request, guard hook and upstream call, trace context sent upstream); `--tracing
lite` the same without the per-guard spans. The receivers run in a separate
process so their parsing does not compete with the load generator. Rounds alternate
between the two gateways in one run, so machine noise hits both alike; the result is the
throughput and p99 latency of `on` as ratios of `off` (the aim: throughput >= 0.9).

    .venv/bin/python bench/respond_overhead.py [--rounds 6] [--calls 400] [--concurrency 8]
        [--tracing off|full|lite] [--without sinks|metrics|alerts|limits|admin ...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from gateway_latency import pct, round_  # noqa: E402

from gwtest.procs import FEATURES_SERVER, free_port, gateway, http_server, http_upstream  # noqa: E402


def receivers_main() -> None:
    """Child mode: run the three receivers, print their ports, count what arrives until stdin closes."""
    from gwtest.receivers import HttpReceiver, SyslogReceiver, decode_otlp_logs, decode_otlp_traces

    syslog, hook, otlp = SyslogReceiver("udp"), HttpReceiver(), HttpReceiver(decode=decode_otlp_logs)
    traces = HttpReceiver(decode=decode_otlp_traces)
    print(syslog.port, hook.port, otlp.port, traces.port, flush=True)
    sys.stdin.read()
    hooked = sum(len(b["records"]) for b in hook.items)
    otlped = sum(len(b) for b in otlp.items)
    spans = sum(len(b) for b in traces.items)
    print(
        f"received: syslog {len(syslog.items)}, webhook {hooked}, otlp logs {otlped}, spans {spans}",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument(
        "--without",
        action="append",
        default=[],
        choices=["sinks", "metrics", "alerts", "limits", "admin"],
        help="leave this part out of the `on` gateway (to see what each costs); repeatable",
    )
    ap.add_argument("--tracing", choices=["off", "full", "lite"], default="off", help="traces in `on` too")
    ap.add_argument("--receivers", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.receivers:
        receivers_main()
        return

    # The admin API needs its token to start (the gateway refuses an unset secret reference).
    os.environ.setdefault("BENCH_ADMIN_TOKEN", secrets.token_hex(16))
    child = subprocess.Popen(
        [sys.executable, __file__, "--receivers"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdin is not None
    syslog_port, hook_port, otlp_port, traces_port = (int(p) for p in child.stdout.readline().split())
    try:
        with http_server(FEATURES_SERVER, "--name", "bench") as (upstream_url, _):
            base = {"upstreams": {"bench": http_upstream(upstream_url)}}
            off = {**base, "audit": {"path": "audit.jsonl", "fsync": "interval"}}
            on = {
                **base,
                "audit": {
                    "path": "audit.jsonl",
                    "fsync": "interval",
                    "sinks": [
                        {"type": "syslog", "host": "127.0.0.1", "port": syslog_port, "transport": "udp"},
                        {"type": "webhook", "url": f"http://127.0.0.1:{hook_port}/hook"},
                        {"type": "otlp", "endpoint": f"http://127.0.0.1:{otlp_port}/v1/logs"},
                        {"type": "stdout"},
                    ],
                },
                "metrics": {"listen": f"127.0.0.1:{free_port()}"},
                "admin": {"listen": f"127.0.0.1:{free_port()}", "token": "env:BENCH_ADMIN_TOKEN"},
                "alerts": {},
                "limits": {
                    "per_principal": {"rate": 1e6, "burst": 1_000_000},
                    "per_tool": {"rate": 1e6, "burst": 1_000_000},
                    "max_concurrent_per_session": 1000,
                },
            }
            if args.tracing != "off":
                endpoint = f"http://127.0.0.1:{traces_port}/v1/traces"
                on["tracing"] = {"endpoint": endpoint, "guard_spans": args.tracing == "full"}
            for part in args.without:
                if part == "sinks":
                    on["audit"] = off["audit"]
                else:
                    on.pop(part, None)
            with gateway(off, start_timeout=120) as g_off, gateway(on, start_timeout=120) as g_on:
                targets = {"off": g_off.url("bench"), "on": g_on.url("bench")}
                for url in targets.values():
                    asyncio.run(round_(url, 100, 2))  # warm-up
                procs = {"off": g_off.proc.pid, "on": g_on.proc.pid}
                cpu_start = {k: _cpu_seconds(pid) for k, pid in procs.items()}
                lat: dict[str, list[float]] = {k: [] for k in targets}
                rps: dict[str, list[float]] = {k: [] for k in targets}
                for r in range(args.rounds):
                    for name in ["off", "on"] if r % 2 == 0 else ["on", "off"]:
                        values, throughput = asyncio.run(round_(targets[name], args.calls, args.concurrency))
                        lat[name].extend(values)
                        rps[name].append(throughput)
                time.sleep(1.0)  # let the sinks drain before counting what arrived
                # Gateway CPU per call, background threads (sinks, exporters) included: unlike
                # throughput, it hardly depends on what else the machine is doing.
                cpu = {
                    k: (_cpu_seconds(pid) - cpu_start[k]) / (args.rounds * args.calls)
                    for k, pid in procs.items()
                }
                drops = _sink_lines(g_on.log_path)
    finally:
        child.stdin.close()
        received = child.stdout.read().strip()
        child.wait(30)

    off_rps, on_rps = statistics.median(rps["off"]), statistics.median(rps["on"])
    shape = f"{args.rounds} alternating rounds x {args.calls} calls, {args.concurrency} clients"
    if args.without:
        shape += f", on without {', '.join(args.without)}"
    if args.tracing != "off":
        shape += f", on with tracing ({args.tracing})"
    print(f"tools/call (echo), {shape}")
    print(f"{'':6}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}")
    for name, value in (("off", off_rps), ("on", on_rps)):
        print(f"{name:6}{pct(lat[name], 0.5):10.2f}{pct(lat[name], 0.99):10.2f}{value:10.0f}")
    p99 = pct(lat["on"], 0.99) / pct(lat["off"], 0.99)
    p50 = pct(lat["on"], 0.5) / pct(lat["off"], 0.5)
    print(f"throughput on/off {on_rps / off_rps:.3f}; p99 on/off {p99:.3f}; p50 on/off {p50:.3f}")
    print(
        f"gateway CPU per call: off {cpu['off'] * 1000:.2f} ms, on {cpu['on'] * 1000:.2f} ms, "
        f"on/off {cpu['on'] / cpu['off']:.3f}"
    )
    print(received)
    if drops:
        print(drops)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux `/proc`)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _sink_lines(log_path: Path) -> str:
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    dropping = [line for line in text.splitlines() if "dropping" in line]
    return f"sink drop warnings in the gateway log: {len(dropping)}" if dropping else ""


if __name__ == "__main__":
    main()
