"""Start-up time of the `mcpwarden` CLI for `--help` and the light commands.

Run: .venv/bin/python bench/cli_startup.py [--repeat 7]

Each command is started as a fresh process (the installed `mcpwarden` script of this
interpreter's environment) several times; the best time is kept to keep noise from other
processes out. The baseline is `python -c pass` with the same interpreter, measured in the
same run, so the ratio says what mcpwarden adds to a bare interpreter start whatever the
machine. The target is 300 ms on an idle machine; commands above it are marked.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 0.300

LIGHT_COMMANDS: list[list[str]] = [
    ["--help"],
    ["--version"],
    ["serve", "--help"],
    ["wrap", "--help"],
    ["config", "--help"],
    ["detect", "--help"],
    ["scan-tools", "--help"],
    ["scan", "--help"],
    ["audit", "--help"],
    ["pins", "--help"],
    ["policy", "--help"],
    ["sessions", "--help"],
]


def best_of(cmd: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    script = Path(sys.executable).with_name("mcpwarden")
    exe = str(script) if script.exists() else shutil.which("mcpwarden")
    if exe is None:
        print("mcpwarden is not installed in this environment", file=sys.stderr)
        return 2
    baseline = best_of([sys.executable, "-c", "pass"], args.repeat)
    print(f"baseline `python -c pass`: {baseline * 1000:.0f} ms (best of {args.repeat})")
    print(f"{'command':<28} {'ms':>6} {'x baseline':>11}  {'added ms':>8}")
    slow = 0
    for words in LIGHT_COMMANDS:
        took = best_of([exe, *words], args.repeat)
        mark = "" if took <= TARGET_S else f"  over {TARGET_S * 1000:.0f} ms"
        slow += bool(mark)
        print(
            f"{' '.join(words):<28} {took * 1000:>6.0f} {took / baseline:>11.1f}  "
            f"{(took - baseline) * 1000:>8.0f}{mark}"
        )
    print(f"{len(LIGHT_COMMANDS) - slow} of {len(LIGHT_COMMANDS)} within {TARGET_S * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
