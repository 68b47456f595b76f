"""`mcpwarden audit verify|tail` through the real CLI entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpwarden.cli import main

from .helpers import rewrite, write_log


def test_verify_intact_log_exits_zero_with_one_line(
    log_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_log(log_path, 4)
    assert main(["audit", "verify", str(log_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "ok, 4 records" in out


def test_verify_tampered_log_exits_one_naming_the_line(
    log_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = write_log(log_path, 4)
    del lines[1]
    rewrite(log_path, lines)
    assert main(["audit", "verify", str(log_path)]) == 1
    assert "line 2" in capsys.readouterr().out


def test_verify_missing_file_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", str(tmp_path / "absent.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_verify_directory_exits_two(tmp_path: Path) -> None:
    assert main(["audit", "verify", str(tmp_path)]) == 2


def test_verify_require_head_fails_without_anchor(log_path: Path) -> None:
    write_log(log_path, 2)
    Path(f"{log_path}.head").unlink()
    assert main(["audit", "verify", str(log_path)]) == 0
    assert main(["audit", "verify", "--require-head", str(log_path)]) == 1


def test_tail_prints_the_last_records(log_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_log(log_path, 5)
    assert main(["audit", "tail", str(log_path), "-n", "2"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()] == ["4", "5"]


def test_tail_shows_a_broken_line_instead_of_failing(
    log_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps to 80 columns when not on a terminal
    lines = write_log(log_path, 2)
    rewrite(log_path, [*lines, b"{garbage"])
    assert main(["audit", "tail", str(log_path)]) == 0
    assert "not a record" in capsys.readouterr().out


def test_tail_rejects_a_non_positive_count(log_path: Path) -> None:
    write_log(log_path, 1)
    assert main(["audit", "tail", str(log_path), "-n", "0"]) == 2


def test_audit_without_an_action_is_a_usage_error() -> None:
    assert main(["audit"]) == 2
