"""Start-up of `mcpwarden serve`: from exec to the first answer of /healthz.

Run: .venv/bin/python bench/gateway_start.py [--rounds 7] [--config FILE]

A restarted gateway, a worker the supervisor replaces and every test that starts a gateway
pay this. Each round starts a fresh gateway (default config: one HTTP upstream that is never
called, the embedded SQLite store, default guards) and polls /healthz until it answers; the
gateway's own CPU time (user + system, from /proc) is read at that moment, so other load on
the machine barely moves it, unlike the wall time. The baseline, `python -c pass` with the
same interpreter, runs in the same rounds; the medians and the ratio to the baseline are
printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from gateway_latency import cpu_s  # noqa: E402

from gwtest.procs import free_port  # noqa: E402


def baseline() -> tuple[float, float]:
    start = time.monotonic()
    before = os.times()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return time.monotonic() - start, cpu


def gateway(config: Path | None, workdir: Path) -> tuple[float, float]:
    port = free_port()
    if config is None:
        config = workdir / "gateway.yaml"
        config.write_text(
            f"listen: {{host: 127.0.0.1, port: {port}}}\n"
            f"store: {{path: {workdir / 'store.sqlite3'}}}\n"
            f"audit: {{path: {workdir / 'audit.jsonl'}}}\n"
            "upstreams:\n  bench: {transport: http, url: 'http://127.0.0.1:9/mcp', allow_private: true}\n"
        )
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcpwarden", "serve", "-c", str(config), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=workdir,
    )
    try:
        deadline = start + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"serve exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.01)
        else:
            raise SystemExit("serve did not answer /healthz within 120 s")
        return time.monotonic() - start, cpu_s(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--config", type=Path, default=None, help="a gateway config (default: a minimal one)")
    args = parser.parse_args()
    base: list[tuple[float, float]] = []
    serve: list[tuple[float, float]] = []
    for _ in range(args.rounds):
        base.append(baseline())
        with tempfile.TemporaryDirectory(prefix="mcpw-start-") as tmp:
            serve.append(gateway(args.config, Path(tmp)))
    bw, bc = statistics.median(w for w, _ in base), statistics.median(c for _, c in base)
    sw, sc = statistics.median(w for w, _ in serve), statistics.median(c for _, c in serve)
    print(f"rounds: {args.rounds}, load average {os.getloadavg()[0]:.1f}")
    print(f"python -c pass      wall {bw * 1000:7.0f} ms   cpu {bc * 1000:7.0f} ms")
    print(f"mcpwarden serve     wall {sw * 1000:7.0f} ms   cpu {sc * 1000:7.0f} ms")
    print(f"ratio to baseline   wall {sw / bw:7.1f} x    cpu {sc / max(bc, 1e-3):7.1f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
