"""Start-up time of the `mcpwarden` CLI: every command's and every action's `--help`, and
the light commands (reading an audit file, listing pins, sessions and kill-switch entries).

Run: .venv/bin/python bench/cli_startup.py [--repeat 7]

Each command is started as a fresh process (the installed `mcpwarden` script of this
interpreter's environment) once per round, all commands and the baseline in every round, so
a burst of load from other processes hits them alike; the best of the rounds is kept. Two
numbers per command: wall-clock time (what a user waits for; on a loaded machine mostly
waiting for a core) and the child's CPU time, user + system (the work the start-up does,
which other processes barely change). The baseline is `python -c pass` with the same
interpreter, measured in the same rounds, so the ratio says what mcpwarden adds to a bare
interpreter start whatever the machine. The target is 300 ms of wall time on an idle
machine; commands above it in wall *and* CPU time are marked. The list of commands comes
from the CLI's own parser, so a new command or action is measured without editing this file.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mcpwarden import cli

TARGET_S = 0.300


def help_commands() -> list[list[str]]:
    """`--help`, `--version`, and `X --help` / `X ACTION --help` for every command and action."""
    out: list[list[str]] = [["--help"], ["--version"]]
    parser = cli.build_parser(full=True)
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in commands.choices.items():
        out.append([name, "--help"])
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                out.extend([name, verb, "--help"] for verb in action.choices)
    return out


def light_commands(scratch: Path) -> list[list[str]]:
    """Commands that only read a local file: they should start like `--help` does."""
    audit = scratch / "audit.jsonl"
    audit.write_bytes(b"")
    store = str(scratch / "store.sqlite3")
    return [
        ["audit", "verify", str(audit)],
        ["audit", "tail", str(audit)],
        ["pins", "list", "--store", store],
        ["sessions", "list", "--store", store],
        ["admin", "list", "--store", store],
    ]


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) for one run of `cmd`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=120)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def best_over_rounds(commands: list[list[str]], repeat: int) -> list[tuple[float, float]]:
    """Best wall and best CPU time of each command over `repeat` rounds of all of them."""
    best = [(float("inf"), float("inf"))] * len(commands)
    for _ in range(repeat):
        for i, cmd in enumerate(commands):
            wall, cpu = timed(cmd)
            best[i] = (min(best[i][0], wall), min(best[i][1], cpu))
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
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        commands = help_commands() + light_commands(Path(scratch))
        runs = [[sys.executable, "-c", "pass"], *([exe, *words] for words in commands)]
        (base_wall, base_cpu), *results = best_over_rounds(runs, args.repeat)
        print(f"cores: {os.cpu_count()}, load: {load:.1f}, rounds: {args.repeat}")
        print(f"baseline `python -c pass`: wall {base_wall * 1000:.0f} ms, cpu {base_cpu * 1000:.0f} ms")
        print(f"{'command':<34} {'wall ms':>7} {'x base':>6} {'cpu ms':>7} {'x base':>6}")
        slow = 0
        for words, (wall, cpu) in zip(commands, results, strict=True):
            over = wall > TARGET_S and cpu > TARGET_S
            slow += over
            mark = f"  over {TARGET_S * 1000:.0f} ms" if over else ""
            shown = " ".join(w if not w.startswith(scratch) else Path(w).name for w in words)
            print(
                f"{shown:<34} {wall * 1000:>7.0f} {wall / base_wall:>6.1f} "
                f"{cpu * 1000:>7.0f} {cpu / max(base_cpu, 1e-3):>6.1f}{mark}"
            )
        worst = max(cpu for _, cpu in results)
        print(f"{len(commands) - slow} of {len(commands)} within {TARGET_S * 1000:.0f} ms; "
              f"slowest start-up CPU time {worst * 1000:.0f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
