"""What writing one audit record costs, against the writer of an earlier revision.

Each round runs a child process per source tree (this checkout, and `--baseline REV`
extracted with `git archive` into a temporary directory) that appends `--records` typical
request records to a fresh file through `AuditLog.write` (fsync `interval`, as the gateway
does by default) and prints microseconds per record. Rounds alternate between the two
trees, so machine noise hits both alike; the result is the median of each and their ratio.

    .venv/bin/python bench/audit_write.py --baseline b28b7be [--rounds 6] [--records 20000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import os, sys, tempfile, time
from mcpwarden.audit import AuditLog
record = {
    "event": "request", "session": "s" * 43, "principal": "https://idp.example|alice|cli",
    "upstream": "files", "method": "tools/call", "tool": "read_file", "request_id": 7,
    "decision": "allow", "latency_ms": 1.234, "request_bytes": 212, "response_bytes": 934,
    "arguments": {"path": "/workspace/project/README.md"},
}
n = int(sys.argv[1])
with tempfile.TemporaryDirectory() as d:
    log = AuditLog(os.path.join(d, "audit.jsonl"), fsync="interval")
    for _ in range(500):
        log.write(record)
    start = time.perf_counter()
    for _ in range(n):
        log.write(record)
    elapsed = time.perf_counter() - start
    log.close()
print(elapsed / n * 1e6)
"""


def _extract(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True)
    tar_path = into / "src.tar"
    tar_path.write_bytes(archive.stdout)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _run(src: Path, records: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(records)], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", required=True, help="git revision whose writer is the baseline")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--records", type=int, default=20_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mcpw-bench-") as tmp:
        trees = {"baseline": _extract(args.baseline, Path(tmp)), "current": ROOT / "src"}
        times: dict[str, list[float]] = {name: [] for name in trees}
        for r in range(args.rounds):
            for name in ["baseline", "current"] if r % 2 == 0 else ["current", "baseline"]:
                times[name].append(_run(trees[name], args.records))
    base, cur = statistics.median(times["baseline"]), statistics.median(times["current"])
    print(f"AuditLog.write, fsync interval, {args.rounds} alternating rounds x {args.records} records")
    print(f"baseline ({args.baseline}) {base:8.2f} us/record   {1e6 / base:10.0f} records/s")
    print(f"current            {cur:8.2f} us/record   {1e6 / cur:10.0f} records/s")
    print(f"time per record current/baseline {cur / base:.3f}")


if __name__ == "__main__":
    main()
