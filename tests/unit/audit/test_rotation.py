"""Rotation by size or age keeps one hash chain across files; `verify` checks the whole set,
and removing, renaming or rewriting a segment is caught."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from mcpwarden.audit import AuditLog, verify
from mcpwarden.audit.binding import scan_audit
from mcpwarden.audit.chain import seal
from mcpwarden.audit.checkpoint import (
    Checkpointer,
    CheckpointError,
    check_at_startup,
    generate_keypair,
    load_private_key,
    load_public_key,
    read_checkpoints,
    verify_checkpoints,
)
from mcpwarden.audit.head import read_head
from mcpwarden.audit.resume import AuditChainError
from mcpwarden.audit.rotation import RotationPolicy
from mcpwarden.audit.segments import ROTATED_EVENT, list_segments, segment_path
from mcpwarden.audit.sinks.fanout import AuditFanout

from .helpers import sample_event


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _rotating(path: Path, max_bytes: int = 2000) -> AuditLog:
    return AuditLog(path, fsync="never", rotation=RotationPolicy(max_bytes=max_bytes))


def _write_rotated(path: Path, n: int, max_bytes: int = 2000) -> None:
    with _rotating(path, max_bytes) as log:
        for i in range(n):
            log.write(sample_event(i))


def _records(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_size_rotation_moves_full_files_to_segments_named_by_their_seqs(log_path: Path) -> None:
    _write_rotated(log_path, 40)
    segments = list_segments(log_path)
    assert len(segments) >= 3
    expected_first = 1
    for segment in segments:
        records = _records(segment.path)
        assert (records[0]["seq"], records[-1]["seq"]) == (segment.first, segment.last)
        assert segment.first == expected_first
        expected_first = segment.last + 1
    assert _records(log_path)[0]["seq"] == expected_first


def test_the_chain_goes_on_across_files_with_a_rotated_record(log_path: Path) -> None:
    _write_rotated(log_path, 30)
    segments = list_segments(log_path)
    last_of_first = _records(segments[0].path)[-1]
    opener = _records(segments[1].path)[0]
    assert opener["event"] == ROTATED_EVENT
    assert opener["chain"] == last_of_first["chain"]
    assert opener["prev"] == last_of_first["hash"]
    assert opener["details"] == {
        "previous_segment": segments[0].path.name,
        "previous_seq": last_of_first["seq"],
        "previous_hash": last_of_first["hash"],
    }


def test_verify_checks_the_whole_rotated_set(log_path: Path) -> None:
    _write_rotated(log_path, 40)
    result = verify(log_path, require_head=True)
    assert result.ok, result.reason
    files = len(list_segments(log_path)) + 1
    assert result.segments == files
    assert result.records == 40 + files - 1  # one rotated record per new file
    assert f"in {files} files" in result.summary()


def test_age_rotation_starts_a_new_file_once_the_active_one_is_old(log_path: Path) -> None:
    clock = FakeClock()
    with AuditLog(log_path, fsync="never", rotation=RotationPolicy(max_age_s=60, clock=clock)) as log:
        log.write(sample_event(0))
        clock.now += 59
        log.write(sample_event(1))
        assert list_segments(log_path) == []
        clock.now += 1
        log.write(sample_event(2))
        assert [(s.first, s.last) for s in list_segments(log_path)] == [(1, 2)]
        clock.now += 600
        log.write(sample_event(3))
    assert [(s.first, s.last) for s in list_segments(log_path)] == [(1, 2), (3, 4)]
    assert verify(log_path).ok


def test_an_empty_file_is_not_rotated_however_old(log_path: Path) -> None:
    clock = FakeClock()
    with AuditLog(log_path, fsync="never", rotation=RotationPolicy(max_age_s=60, clock=clock)) as log:
        clock.now += 3600
        log.write(sample_event(0))
        assert list_segments(log_path) == []
        assert log.rotate(only_if_due=True) is not None  # now it holds a record, and is old


def test_reopening_a_rotated_file_continues_its_chain(log_path: Path) -> None:
    _write_rotated(log_path, 25)
    before = _records(log_path)[-1]
    with _rotating(log_path, max_bytes=10**9) as log:
        record = log.write(sample_event(99))
    assert record["seq"] == before["seq"] + 1
    assert record["prev"] == before["hash"]
    assert verify(log_path).ok


def test_a_rotation_cut_short_after_the_rename_goes_on_from_the_last_segment(log_path: Path) -> None:
    _write_rotated(log_path, 25)
    records = _records(log_path)
    os.rename(log_path, segment_path(log_path, records[0]["seq"], records[-1]["seq"]))  # type: ignore[arg-type]
    with _rotating(log_path) as log:
        record = log.write(sample_event(99))
    opener = _records(log_path)[0]
    assert opener["event"] == ROTATED_EVENT and opener["prev"] == records[-1]["hash"]
    assert record["seq"] == records[-1]["seq"] + 2
    assert verify(log_path).ok


def test_an_active_file_deleted_after_a_rotation_is_refused_at_start(log_path: Path) -> None:
    _write_rotated(log_path, 25)
    log_path.unlink()
    with pytest.raises(AuditChainError, match="head anchor records seq"):
        _rotating(log_path)


def test_a_missing_middle_segment_fails_verify(log_path: Path) -> None:
    _write_rotated(log_path, 40)
    middle = list_segments(log_path)[1]
    middle.path.unlink()
    result = verify(log_path)
    assert not result.ok
    assert result.bad_line == 1
    assert "line(s) before it were removed" in (result.reason or "")


def test_a_missing_first_segment_fails_verify(log_path: Path) -> None:
    _write_rotated(log_path, 40)
    first = list_segments(log_path)[0]
    first.path.unlink()
    result = verify(log_path)
    assert not result.ok
    assert f"continuing the chain from segment {first.path.name}, which is missing" in (result.reason or "")


def test_a_renamed_segment_fails_verify(log_path: Path) -> None:
    _write_rotated(log_path, 40)
    last = list_segments(log_path)[-1]
    os.rename(last.path, segment_path(log_path, last.first, last.last + 5))
    result = verify(log_path)
    assert not result.ok
    assert "its name says" in (result.reason or "")


def test_an_edit_in_a_segment_names_that_segment(log_path: Path) -> None:
    _write_rotated(log_path, 40)
    segment = list_segments(log_path)[1].path
    lines = segment.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"upstream":"files"', b'"upstream":"other"')
    segment.write_bytes(b"".join(lines))
    result = verify(log_path)
    assert not result.ok
    assert result.path == str(segment)
    assert result.bad_line == 3


def _signed(log_path: Path, key: bytes, n: int, every: int = 1000) -> None:
    log = _rotating(log_path)
    fanout = AuditFanout(log)
    checkpointer = Checkpointer(log, load_private_key(key.decode()), every=every)
    fanout.add_observer(checkpointer.observe, on_close=checkpointer.close)
    for i in range(n):
        fanout.write(sample_event(i))
    assert checkpointer.check_file() is None  # a rotation is not a lost file
    fanout.close()


def test_every_rotation_is_signed_and_verified_across_the_set(log_path: Path) -> None:
    private, public = generate_keypair()
    _signed(log_path, private, 40)
    segments = list_segments(log_path)
    signed = {cp["seq"] for cp in read_checkpoints(log_path)}
    assert {s.last + 1 for s in segments} <= signed  # each rotated record
    result = verify_checkpoints(log_path, load_public_key(public))
    assert result.ok, result.reason
    check_at_startup(log_path)


def test_a_segment_rewritten_consistently_is_caught_by_the_checkpoints(log_path: Path) -> None:
    private, public = generate_keypair()
    _signed(log_path, private, 40)
    # The attacker rewrites the first segment and re-hashes the rest of the chain after it.
    files = [s.path for s in list_segments(log_path)] + [log_path]
    prev = None
    for file in files:
        out = b""
        for record in _records(file):
            record.pop("hash")
            if prev is not None:
                record["prev"] = prev
            if record["seq"] == 3:
                record["principal"] = "mallory"
            record, line = seal(record)
            prev = record["hash"]
            out += line
        file.write_bytes(out)
    head = read_head(log_path)
    assert head is not None
    (log_path.parent / f"{log_path.name}.head").write_bytes(
        orjson.dumps({"chain": head.chain, "seq": head.seq, "hash": prev}) + b"\n"
    )
    assert verify(log_path).ok  # the chain alone cannot tell
    result = verify_checkpoints(log_path, load_public_key(public))
    assert not result.ok
    assert "rewritten" in (result.reason or "")


def test_startup_finds_a_checkpointed_segment_that_was_deleted(log_path: Path) -> None:
    private, _ = generate_keypair()
    _signed(log_path, private, 40, every=5)
    for segment in list_segments(log_path):
        segment.path.unlink()
    log_path.unlink()
    with pytest.raises(CheckpointError, match="deleted"):
        check_at_startup(log_path)


def test_the_pin_binding_finds_a_record_in_an_older_segment(log_path: Path) -> None:
    _write_rotated(log_path, 40)
    target = _records(list_segments(log_path)[0].path)[4]
    assert scan_audit(log_path, 5).hash_at == target["hash"]


def test_the_audit_verify_command_checks_a_rotated_set(log_path: Path) -> None:
    _write_rotated(log_path, 40)
    ok = subprocess.run(
        [sys.executable, "-m", "mcpwarden", "audit", "verify", str(log_path)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert "files" in ok.stdout
    list_segments(log_path)[0].path.unlink()
    bad = subprocess.run(
        [sys.executable, "-m", "mcpwarden", "audit", "verify", str(log_path)], capture_output=True, text=True
    )
    assert bad.returncode == 1
    assert "missing" in bad.stdout


def test_a_failed_rotation_leaves_the_chain_verifiable(log_path: Path) -> None:
    with _rotating(log_path, max_bytes=10**9) as log:
        for i in range(10):
            log.write(sample_event(i))
        blocker = segment_path(log_path, 1, log.seq)
        blocker.write_bytes(b"")
        with pytest.raises(AuditChainError, match="already exists"):
            log.rotate()
        blocker.unlink()
        log.write(sample_event(11))
    assert verify(log_path).ok
    assert list_segments(log_path) == []


def test_audit_search_and_export_read_the_segments_too(log_path: Path, tmp_path: Path) -> None:
    _write_rotated(log_path, 40)
    assert list_segments(log_path)
    found = subprocess.run(
        [sys.executable, "-m", "mcpwarden", "audit", "search", str(log_path), "--event", "request", "--json"],
        capture_output=True,
        text=True,
    )
    assert found.returncode == 0, found.stderr
    assert len(found.stdout.splitlines()) == 40
    out = tmp_path / "all.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mcpwarden",
            "audit",
            "export",
            str(log_path),
            "--format",
            "csv",
            "-o",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    rows = out.read_text().splitlines()
    assert len(rows) == 1 + 40 + len(list_segments(log_path))  # header, requests, rotated records


def test_the_gateway_config_turns_rotation_on(tmp_path: Path) -> None:
    from mcpwarden.config import parse_config
    from mcpwarden.gateway.core import GatewayCore

    audit = {"path": str(tmp_path / "audit.jsonl"), "rotate": {"max_bytes": 65536, "max_age_s": 3600}}
    config = parse_config({"upstreams": {"files": {"transport": "stdio", "command": "true"}}, "audit": audit})
    core = GatewayCore.from_config(config, guards=[])
    assert isinstance(core.audit, AuditFanout) and core.audit.file is not None
    file = core.audit.file
    try:
        assert file.rotation == RotationPolicy(max_bytes=65536, max_age_s=3600)
    finally:
        file.close()
