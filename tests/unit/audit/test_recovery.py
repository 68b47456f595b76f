"""A torn tail after a crash: kept aside, recorded in the chain, and the log goes on."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest

from mcpwarden.audit import AuditChainError, AuditLog, verify

from .helpers import rewrite, sample_event, write_log


def _torn(log_path: Path, n: int = 3, keep: int = 40) -> bytes:
    """A log whose last record was cut after `keep` bytes, as a crash mid-write leaves it."""
    lines = write_log(log_path, n)
    torn = lines[-1][:keep]
    lines[-1] = torn
    rewrite(log_path, lines)
    (log_path.parent / f"{log_path.name}.head").unlink()  # a crash leaves an anchor that lags
    return torn


def test_reopening_a_torn_log_moves_the_torn_bytes_to_a_sibling_file(log_path: Path) -> None:
    torn = _torn(log_path)
    with AuditLog(log_path) as log:
        assert log.recovered is not None
        saved = Path(log.recovered.saved_to)
    assert saved.parent == log_path.parent
    assert saved.name.startswith("audit.jsonl.torn-")
    assert saved.read_bytes() == torn


def test_recovery_record_chains_on_and_names_what_was_moved(log_path: Path) -> None:
    torn = _torn(log_path)
    with AuditLog(log_path) as log:
        log.write(sample_event(7))
    records = [orjson.loads(line) for line in log_path.read_bytes().splitlines()]
    recovery = records[2]
    assert recovery["event"] == "audit.recovered"
    assert recovery["seq"] == 3
    assert recovery["prev"] == records[1]["hash"]
    assert recovery["details"]["torn_bytes"] == len(torn)
    assert recovery["details"]["torn_sha256"] == hashlib.sha256(torn).hexdigest()
    assert records[3]["seq"] == 4


def test_verify_accepts_the_recovered_log_and_reports_the_recovery(log_path: Path) -> None:
    _torn(log_path)
    with AuditLog(log_path) as log:
        assert log.recovered is not None
        saved = log.recovered.saved_to
    result = verify(log_path, require_head=True)
    assert result.ok
    assert result.recoveries == ((3, saved),)
    assert "recovered from a torn tail at seq 3" in result.summary()
    assert saved in result.summary()


def test_a_torn_first_and_only_line_starts_a_new_chain_with_the_recovery(log_path: Path) -> None:
    log_path.write_bytes(b'{"chain":"abc","event":"requ')
    with AuditLog(log_path) as log:
        assert log.recovered is not None
    records = [orjson.loads(line) for line in log_path.read_bytes().splitlines()]
    assert [r["event"] for r in records] == ["audit.recovered"]
    assert verify(log_path).ok


def test_existing_sibling_files_are_never_overwritten(log_path: Path) -> None:
    _torn(log_path)
    with AuditLog(log_path) as log:
        first = log.recovered.saved_to if log.recovered else ""
        log.write(sample_event(1))
    with open(log_path, "ab") as f:
        f.write(b'{"second":"torn')
    with AuditLog(log_path) as log:
        second = log.recovered.saved_to if log.recovered else ""
    assert first != second
    assert Path(first).read_bytes() != Path(second).read_bytes()
    assert verify(log_path).ok


def test_torn_tail_after_a_truncation_below_the_anchor_is_still_refused(log_path: Path) -> None:
    lines = write_log(log_path, 4)  # the anchor names seq 4
    rewrite(log_path, [*lines[:2], lines[2][:25]])
    before = log_path.read_bytes()
    with pytest.raises(AuditChainError, match="truncated"):
        AuditLog(log_path)
    assert log_path.read_bytes() == before
    assert not list(log_path.parent.glob("*.torn-*"))


def test_torn_tail_after_an_edited_record_is_still_refused(log_path: Path) -> None:
    lines = write_log(log_path, 3)
    lines[-1] = lines[-1].replace(b'"session":"s2"', b'"session":"s9"')
    rewrite(log_path, [*lines, b'{"x":'])
    with pytest.raises(AuditChainError, match="edited"):
        AuditLog(log_path)
