"""Gateway memory for one huge upstream reply, with the caps enforced while reading.

Starts the hostile test upstream (tests/fixtures/hostile_http_server.py) and the gateway
in front of it, opens one session, then asks for a tools/call reply of `--mb` megabytes as
a JSON body and as one SSE event. Prints the gateway's peak resident memory (VmHWM) before
and after each reply (a fresh gateway for each), the reply's error reason, and how long it took.

`--src DIR` runs the gateway from another source tree (e.g. an export of an older commit)
to measure the same reply before a change; `--legacy-config` then leaves out settings the
older config schema does not know (`allow_private`).

    .venv/bin/python bench/upstream_caps.py [--mb 100] [--src /tmp/old/src --legacy-config]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from gwtest.procs import FIXTURES, gateway, http_server, http_upstream  # noqa: E402
from gwtest.raw import body_of, open_session, post  # noqa: E402

MB = 1024 * 1024


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


@contextlib.contextmanager
def gateway_from(src: str | None) -> Iterator[None]:
    """Make the gateway subprocess import mcpwarden from `src` (inherited PYTHONPATH)."""
    old = os.environ.get("PYTHONPATH")
    if src:
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (src, old) if p)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with http_server(FIXTURES / "hostile_http_server.py") as (url, _), gateway_from(args.src):
        up = http_upstream(url, timeout_s=args.timeout)
        if args.legacy_config:
            up.pop("allow_private")
        for i, tool in enumerate(("huge_json", "huge_sse")):
            # A fresh gateway per reply: the peak (VmHWM) only ever rises.
            with (
                gateway({"upstreams": {"evil": up}}) as gw,
                httpx.Client(timeout=args.timeout + 30) as client,
            ):
                sid = open_session(client, gw.url("evil"))
                before = peak_rss_mib(gw.proc.pid)
                started = time.perf_counter()
                body = {
                    "jsonrpc": "2.0",
                    "id": 100 + i,
                    "method": "tools/call",
                    "params": {"name": tool, "arguments": {"size": args.mb * MB}},
                }
                reply = body_of(post(client, gw.url("evil"), body, **{"mcp-session-id": sid}))
                elapsed = time.perf_counter() - started
                after = peak_rss_mib(gw.proc.pid)
            reason = (reply.get("error", {}).get("data") or {}).get("reason", "result")
            rows.append(
                {"reply": tool, "before_mib": before, "after_mib": after, "reason": reason, "s": elapsed}
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=int, default=100, help="size of the upstream's reply in MiB")
    parser.add_argument("--timeout", type=float, default=60.0, help="upstream timeout_s")
    parser.add_argument("--src", default=None, help="run the gateway from this source tree")
    parser.add_argument("--legacy-config", action="store_true", help="omit settings older schemas lack")
    args = parser.parse_args()
    rows = measure(args)
    print(f"gateway source: {args.src or 'this tree'}; reply size {args.mb} MiB")
    print(f"{'reply':<10} {'peak before':>12} {'peak after':>11} {'growth':>8}  {'time':>7}  reason")
    for r in rows:
        growth = r["after_mib"] - r["before_mib"]
        print(
            f"{r['reply']:<10} {r['before_mib']:>9.1f} MiB {r['after_mib']:>7.1f} MiB {growth:>5.1f} MiB"
            f"  {r['s']:>6.2f}s  {r['reason']}"
        )


if __name__ == "__main__":
    main()
