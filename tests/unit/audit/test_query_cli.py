"""`audit tail --follow --json`, `audit search` and `audit export`, run as the real CLI."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from mcpwarden.audit import AuditLog
from mcpwarden.commands.audit_query import compact, parse_time


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpwarden", "audit", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def populated(log_path: Path) -> Path:
    with AuditLog(log_path, fsync="never") as log:
        log.write(
            {
                "event": "request",
                "principal": "iss|alice|cli",
                "upstream": "files",
                "tool": "read",
                "decision": "allow",
            }
        )
        log.write(
            {
                "event": "request",
                "principal": "iss|bob|cli",
                "upstream": "files",
                "tool": "write",
                "decision": "deny",
                "guard": "policy",
                "reason": "policy.denied",
            }
        )
        log.write(
            {
                "event": "request",
                "principal": "iss|alice|cli",
                "upstream": "mail",
                "tool": "send",
                "decision": "allow",
                "message": '=HYPERLINK("x")',
            }
        )
        log.write({"event": "alert", "principal": "iss|alice|cli", "reason": "anomaly.calls"})
    return log_path


def test_search_filters_by_principal_subject_upstream_and_decision(populated: Path) -> None:
    out = _cli("search", str(populated), "--principal", "alice", "--upstream", "files", "--json")
    assert out.returncode == 0, out.stderr
    rows = [orjson.loads(line) for line in out.stdout.splitlines()]
    assert [r["seq"] for r in rows] == [1]
    denied = _cli("search", str(populated), "--decision", "deny", "--json")
    assert [orjson.loads(line)["tool"] for line in denied.stdout.splitlines()] == ["write"]


def test_search_by_time_window(populated: Path) -> None:
    assert _cli("search", str(populated), "--since", "1h", "--json").stdout.count("\n") == 4
    assert _cli("search", str(populated), "--until", "1h", "--json").stdout == ""
    assert _cli("search", str(populated), "--since", "not a time").returncode == 2


def test_text_lines_fit_80_columns(populated: Path) -> None:
    out = _cli("search", str(populated))
    lines = out.stdout.splitlines()
    assert len(lines) == 4 and all(len(line) <= 80 for line in lines)
    assert "policy.denied" in lines[1] and "bob" in lines[1] and "files/write" in lines[1]


def test_compact_cuts_to_the_width() -> None:
    line = compact(
        {"time": "2026-01-02T03:04:05.123456Z", "seq": 1, "event": "request", "reason": "x" * 200}, 80
    )
    assert len(line) == 80 and line.startswith("03:04:05") and line.endswith("x" * 18)


def test_export_csv_has_a_header_and_neutralizes_formulas(populated: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    out = _cli("export", str(populated), "--format", "csv", "-o", str(target), "--principal", "alice")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["seq"] for r in rows] == ["1", "3", "4"]
    assert rows[1]["message"].startswith("'=")


def test_export_jsonl_is_the_records_as_written(populated: Path) -> None:
    out = _cli("export", str(populated), "--event", "alert")
    [line] = out.stdout.splitlines()
    assert line == populated.read_text().splitlines()[3]


def test_tail_follow_json_prints_new_records_as_they_are_written(populated: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mcpwarden",
            "audit",
            "tail",
            str(populated),
            "-n",
            "1",
            "--follow",
            "--json",
            "--tool",
            "late",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        with AuditLog(populated, fsync="never") as log:
            log.write({"event": "request", "tool": "early"})
            log.write({"event": "request", "tool": "late"})
            log.flush()
            while time.monotonic() < deadline and not lines:
                lines.append(proc.stdout.readline())
        record = orjson.loads(lines[0])
        assert record["tool"] == "late" and record["seq"] == 6
    finally:
        proc.terminate()
        proc.wait(10)


def test_relative_times_are_before_now() -> None:
    assert parse_time("15m") < parse_time("1m")
