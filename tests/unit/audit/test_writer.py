"""The writer: record contents, continuing a chain, refusing to continue a damaged one."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from mcpwarden.audit import (
    AuditChainError,
    AuditEvent,
    AuditLog,
    AuditSink,
    AuditUnavailable,
    args_digest,
    verify,
)
from mcpwarden.audit.chain import genesis
from mcpwarden.types import Decision, Exchange, Principal

from .helpers import rewrite, sample_event, write_log


def test_first_record_starts_at_the_genesis_of_its_chain(log_path: Path) -> None:
    with AuditLog(log_path) as log:
        record = log.write(sample_event(0))
    assert record["seq"] == 1
    assert record["prev"] == genesis(record["chain"])


def test_record_returned_is_the_line_written(log_path: Path) -> None:
    with AuditLog(log_path) as log:
        record = log.write(sample_event(1))
    assert orjson.loads(log_path.read_bytes()) == record


def test_time_is_rfc3339_utc_with_microseconds(log_path: Path) -> None:
    with AuditLog(log_path) as log:
        record = log.write(AuditEvent(event="session.start"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", record["time"])
    assert datetime.fromisoformat(record["time"]).utcoffset() is not None


def test_reopening_continues_the_chain(log_path: Path) -> None:
    first = write_log(log_path, 3)
    with AuditLog(log_path) as log:
        record = log.write(sample_event(9))
    assert record["seq"] == 4
    assert record["chain"] == orjson.loads(first[0])["chain"]
    assert record["prev"] == orjson.loads(first[-1])["hash"]
    assert verify(log_path).ok


def test_reopening_refuses_an_edited_last_line(log_path: Path) -> None:
    lines = write_log(log_path, 3)
    lines[-1] = lines[-1].replace(b'"event":"request"', b'"event":"respond"')
    rewrite(log_path, lines)
    with pytest.raises(AuditChainError, match="edited"):
        AuditLog(log_path)


def test_reopening_refuses_a_log_shorter_than_its_anchor(log_path: Path) -> None:
    lines = write_log(log_path, 4)
    rewrite(log_path, lines[:2])
    with pytest.raises(AuditChainError, match="truncated"):
        AuditLog(log_path)


def test_reopening_refuses_a_log_with_lines_removed_before_the_tail(log_path: Path) -> None:
    lines = write_log(log_path, 4)
    del lines[1]
    rewrite(log_path, lines)
    with pytest.raises(AuditChainError, match="seq 4 but is line 3"):
        AuditLog(log_path)


def test_refused_reopen_leaves_the_file_untouched(log_path: Path) -> None:
    lines = write_log(log_path, 3)
    lines[-1] = lines[-1].replace(b'"event":"request"', b'"event":"respond"')
    lines.append(b'{"torn":')
    rewrite(log_path, lines)
    before = log_path.read_bytes()
    with pytest.raises(AuditChainError):
        AuditLog(log_path)
    assert log_path.read_bytes() == before


def test_second_writer_on_the_same_file_is_refused(log_path: Path) -> None:
    with AuditLog(log_path), pytest.raises(AuditChainError, match="already open"):
        AuditLog(log_path)


def test_raw_arguments_are_left_out_by_default(log_path: Path) -> None:
    arguments = {"token": "sk-very-secret", "n": 1}
    with AuditLog(log_path) as log:
        record = log.write(AuditEvent(event="request", arguments=arguments))
    assert "arguments" not in record
    assert record["args_sha256"] == args_digest(arguments)
    assert b"sk-very-secret" not in log_path.read_bytes()


def test_raw_arguments_are_kept_when_asked(log_path: Path) -> None:
    arguments = {"token": "sk-very-secret", "n": 1}
    with AuditLog(log_path, include_raw_arguments=True) as log:
        record = log.write(AuditEvent(event="request", arguments=arguments))
    assert record["arguments"] == arguments
    assert record["args_sha256"] == args_digest(arguments)
    assert verify(log_path).ok


def test_args_digest_does_not_depend_on_key_order() -> None:
    assert args_digest({"a": 1, "b": [1, 2]}) == args_digest({"b": [1, 2], "a": 1})
    assert args_digest({"a": 1}) != args_digest({"a": 2})


def test_callers_cannot_set_chain_fields(log_path: Path) -> None:
    with AuditLog(log_path) as log, pytest.raises(ValueError, match="chain fields"):
        log.write({"event": "request", "seq": 1})


def test_unknown_top_level_fields_are_rejected(log_path: Path) -> None:
    with AuditLog(log_path) as log, pytest.raises(ValueError, match="details"):
        log.write({"event": "request", "colour": "red"})


def test_dict_events_are_accepted_like_typed_ones(log_path: Path) -> None:
    with AuditLog(log_path) as log:
        record = log.write({"event": "error", "upstream": "files", "reason": "upstream.timeout"})
    assert (record["event"], record["reason"]) == ("error", "upstream.timeout")


def test_odd_python_values_in_details_still_verify(log_path: Path) -> None:
    details = {"tags": {"b", "a"}, "big": 2**80, "raw": b"\x00\x01", "nan": float("nan"), 7: "int key"}
    with AuditLog(log_path) as log:
        record = log.write(AuditEvent(event="alert", details=details))
    assert record["details"]["big"] == str(2**80)
    assert verify(log_path).ok


def test_decision_event_names_guard_and_reason(log_path: Path) -> None:
    ex = Exchange(
        method="tools/call",
        upstream="files",
        principal=Principal(subject="alice"),
        session_id="sess-1",
        tool="rm",
        params={"name": "rm", "arguments": {"path": "/"}},
    )
    event = AuditEvent.from_decision(ex, "tool_acl", Decision.deny("tool.denied", "rm is not allowed"))
    with AuditLog(log_path) as log:
        record = log.write(event)
    assert record["guard"] == "tool_acl"
    assert record["decision"] == "deny"
    assert record["reason"] == "tool.denied"
    assert record["principal"] == "alice"
    assert record["args_sha256"] == args_digest({"path": "/"})


def test_audit_log_satisfies_the_sink_protocol(log_path: Path) -> None:
    with AuditLog(log_path) as log:
        assert isinstance(log, AuditSink)


def test_write_after_close_is_an_error(log_path: Path) -> None:
    log = AuditLog(log_path)
    log.close()
    with pytest.raises(ValueError, match="closed"):
        log.write(sample_event(0))


def test_failed_write_leaves_no_partial_line_and_later_writes_continue_the_chain(
    log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    with AuditLog(log_path, fsync="never") as log:
        log.write(sample_event(0))
        size = log_path.stat().st_size

        def short_then_fail(fd: int, data: bytes) -> int:
            real_write(fd, bytes(data[:10]))
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "write", short_then_fail)
        with pytest.raises(AuditUnavailable, match="No space left"):
            log.write(sample_event(1))
        assert log_path.stat().st_size == size
        assert not log.available
        monkeypatch.setattr(os, "write", real_write)
        log.write(sample_event(2))
        assert log.available
    assert verify(log_path).ok


def test_first_record_after_an_outage_is_an_alert_counting_refused_records(
    log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    with AuditLog(log_path, fsync="never") as log:
        log.write(sample_event(0))

        def full(fd: int, data: bytes) -> int:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "write", full)
        for i in range(3):
            with pytest.raises(AuditUnavailable):
                log.write(sample_event(i))
        monkeypatch.setattr(os, "write", real_write)
        after = log.write(sample_event(9))
    records = [orjson.loads(line) for line in log_path.read_bytes().splitlines()]
    assert [r["event"] for r in records] == ["request", "alert", "request"]
    assert records[1]["reason"] == "audit.resumed"
    assert records[1]["details"]["refused_records"] == 3
    assert records[1]["details"]["error"] == "No space left on device"
    assert after["seq"] == 3


def test_write_that_cannot_be_undone_stops_further_writes(
    log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    with AuditLog(log_path, fsync="never") as log:
        log.write(sample_event(0))

        def short_then_fail(fd: int, data: bytes) -> int:
            real_write(fd, bytes(data[:10]))
            raise OSError(5, "Input/output error")

        def no_truncate(fd: int, length: int) -> None:
            raise OSError(5, "Input/output error")

        monkeypatch.setattr(os, "write", short_then_fail)
        monkeypatch.setattr(os, "ftruncate", no_truncate)
        with pytest.raises(AuditChainError, match="could not be undone"):
            log.write(sample_event(1))
        monkeypatch.setattr(os, "write", real_write)
        with pytest.raises(AuditChainError, match="earlier write failed"):
            log.write(sample_event(2))
