"""Start-up time of the `mcpwarden` CLI: every command's and every action's `--help`, and
the light commands (reading an audit file, listing pins, sessions and kill-switch entries).

Run: .venv/bin/python bench/cli_startup.py [--repeat 7]

Each command is started as a fresh process (the installed `mcpwarden` script of this
interpreter's environment) several times; the best time is kept to keep noise from other
processes out. The baseline is `python -c pass` with the same interpreter, measured in the
same run, so the ratio says what mcpwarden adds to a bare interpreter start whatever the
machine. The target is 300 ms on an idle machine; commands above it are marked. The list of
commands comes from the CLI's own parser, so a new command or action is measured without
editing this file.
"""

from __future__ import annotations

import argparse
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


def best_of(cmd: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=120)
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
    print(f"{'command':<34} {'ms':>6} {'x baseline':>11}  {'added ms':>8}")
    with tempfile.TemporaryDirectory() as scratch:
        commands = help_commands() + light_commands(Path(scratch))
        slow = 0
        for words in commands:
            took = best_of([exe, *words], args.repeat)
            mark = "" if took <= TARGET_S else f"  over {TARGET_S * 1000:.0f} ms"
            slow += bool(mark)
            shown = " ".join(w if not w.startswith(scratch) else Path(w).name for w in words)
            print(
                f"{shown:<34} {took * 1000:>6.0f} {took / baseline:>11.1f}  "
                f"{(took - baseline) * 1000:>8.0f}{mark}"
            )
    print(f"{len(commands) - slow} of {len(commands)} within {TARGET_S * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
