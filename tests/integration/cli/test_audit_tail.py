"""`mcpwarden audit tail` as a person reads it: one line per record within 80 columns, JSON
lines for tools, and --follow printing what a running gateway appends."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import orjson

from gwtest.procs import PYTHON
from mcpwarden.audit import AuditEvent, AuditLog

LONG_TOOL = "a_tool_with_a_rather_long_name_that_would_push_the_line_past_eighty_columns"


def event(i: int) -> AuditEvent:
    return AuditEvent(
        event="request",
        session=f"session-{i:04d}-0123456789abcdef",
        principal="alice@example.com",
        upstream="filesystem",
        method="tools/call",
        tool=LONG_TOOL,
        decision="deny",
        guard="policy",
        reason="policy.no_matching_rule",
        latency_ms=1.5 * i,
    )


def write(path: Path, n: int) -> None:
    with AuditLog(path, fsync="never") as log:
        for i in range(n):
            log.write(event(i))


def tail(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "mcpwarden", "audit", "tail", *args], capture_output=True, text=True, timeout=60,
        env={**os.environ, "COLUMNS": "80"},
    )  # fmt: skip


def test_tail_fits_each_record_on_one_80_column_line(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    write(log, 6)
    out = tail(str(log), "-n", "3").stdout.splitlines()
    assert [line.split()[0] for line in out] == ["4", "5", "6"]
    assert all(len(line) <= 80 for line in out), out
    assert all("deny" in line and "filesystem/tools/call/" in line for line in out)


def test_tail_json_prints_the_records_themselves(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    write(log, 3)
    records = [orjson.loads(line) for line in tail(str(log), "-n", "2", "--json").stdout.splitlines()]
    assert [r["seq"] for r in records] == [2, 3] and records[0]["tool"] == LONG_TOOL


def test_tail_follow_prints_appended_records_and_ends_quietly_on_ctrl_c(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    write(log, 2)
    proc = subprocess.Popen(
        [PYTHON, "-m", "mcpwarden", "audit", "tail", str(log), "-n", "1", "--follow", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    assert orjson.loads(proc.stdout.readline())["seq"] == 2
    with AuditLog(log, fsync="never") as audit:
        audit.write(event(2))
        audit.write(event(3))
    assert [orjson.loads(proc.stdout.readline())["seq"] for _ in range(2)] == [3, 4]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0
    assert proc.stderr is not None and "Traceback" not in proc.stderr.read()
