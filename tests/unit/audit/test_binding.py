"""The pin store and the audit file vouch for each other (issue 11, item 14)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from mcpwarden.audit import AuditLog, verify
from mcpwarden.audit.binding import IntegrityMonitor
from mcpwarden.store import SQLiteStore

DEFN = {"name": "add", "description": "Add two numbers."}


@contextmanager
def gateway_run(tmp: Path) -> Iterator[tuple[IntegrityMonitor, list[str]]]:
    """What one gateway run does: open both, check at start, hand the monitor to the test."""
    log = AuditLog(tmp / "audit.jsonl", fsync="never")
    store = SQLiteStore(tmp / "store.sqlite3")
    monitor = IntegrityMonitor(log, store)
    problems = monitor.check_at_start()
    try:
        yield monitor, problems
    finally:
        store.close()
        log.close()


def records(tmp: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in (tmp / "audit.jsonl").read_bytes().splitlines()]


def alarm_of(tmp: Path) -> str | None:
    store = SQLiteStore(tmp / "store.sqlite3")
    try:
        return store.alarm()
    finally:
        store.close()


def first_run_with_a_pin(tmp: Path) -> None:
    with gateway_run(tmp) as (monitor, problems):
        assert problems == []
        monitor.store.new_pin("calc", "tool", "add", DEFN, "h1", status="approved", approved_by="tofu")
        assert monitor.check_running() == []


def test_first_start_records_the_store_in_the_audit_and_raises_nothing(tmp_path: Path) -> None:
    with gateway_run(tmp_path) as (_, problems):
        assert problems == []
    bound = [r for r in records(tmp_path) if r["event"] == "store.bound"]
    assert len(bound) == 1 and bound[0]["details"]["generation"] == 0
    assert alarm_of(tmp_path) is None


def test_restart_with_both_files_intact_raises_nothing(tmp_path: Path) -> None:
    first_run_with_a_pin(tmp_path)
    with gateway_run(tmp_path) as (_, problems):
        assert problems == []
    assert alarm_of(tmp_path) is None


def test_deleted_pin_store_is_detected_at_start(tmp_path: Path) -> None:
    first_run_with_a_pin(tmp_path)
    for f in tmp_path.glob("store.sqlite3*"):
        f.unlink()
    with gateway_run(tmp_path) as (_, problems):
        assert problems == ["integrity.store_replaced"]
    assert "deleted and recreated" in (alarm_of(tmp_path) or "")
    alerts = [r for r in records(tmp_path) if r["event"] == "alert"]
    assert [a["reason"] for a in alerts] == ["integrity.store_replaced"]


def test_pin_store_edited_with_sqlite_is_detected_at_start(tmp_path: Path) -> None:
    first_run_with_a_pin(tmp_path)
    with sqlite3.connect(tmp_path / "store.sqlite3") as conn:
        conn.execute("UPDATE pins SET hash = 'forged' WHERE name = 'add'")
    with gateway_run(tmp_path) as (_, problems):
        assert problems == ["integrity.store_edited"]


def test_pin_store_restored_from_an_older_copy_is_detected_at_start(tmp_path: Path) -> None:
    with gateway_run(tmp_path):
        pass
    backup = tmp_path / "backup"
    backup.mkdir()
    for f in tmp_path.glob("store.sqlite3*"):
        shutil.copy(f, backup / f.name)
    first_run_with_a_pin(tmp_path)
    for f in tmp_path.glob("store.sqlite3*"):
        f.unlink()
    for f in backup.iterdir():
        shutil.copy(f, tmp_path / f.name)
    with gateway_run(tmp_path) as (_, problems):
        assert problems == ["integrity.store_rolled_back"]


def test_deleted_audit_file_is_detected_at_start(tmp_path: Path) -> None:
    first_run_with_a_pin(tmp_path)
    (tmp_path / "audit.jsonl").unlink()
    (tmp_path / "audit.jsonl.head").unlink()
    with gateway_run(tmp_path) as (_, problems):
        assert problems == ["integrity.audit_replaced"]


def test_audit_file_cut_back_with_its_anchor_is_detected_at_start(tmp_path: Path) -> None:
    first_run_with_a_pin(tmp_path)
    lines = (tmp_path / "audit.jsonl").read_bytes().splitlines(keepends=True)
    (tmp_path / "audit.jsonl").write_bytes(b"".join(lines[:1]))
    (tmp_path / "audit.jsonl.head").unlink()
    with gateway_run(tmp_path) as (_, problems):
        assert problems == ["integrity.audit_truncated"]


def test_pin_store_edited_while_running_is_detected(tmp_path: Path) -> None:
    with gateway_run(tmp_path) as (monitor, _):
        monitor.store.new_pin("calc", "tool", "add", DEFN, "h1", status="approved", approved_by="tofu")
        assert monitor.check_running() == []
        with sqlite3.connect(tmp_path / "store.sqlite3") as conn:
            conn.execute("UPDATE pins SET status = 'approved', hash = 'forged'")
        assert monitor.check_running() == ["integrity.store_edited"]
        assert monitor.store.alarm() is not None
        monitor.check_running()
    alerts = [r for r in records(tmp_path) if r["event"] == "alert"]
    assert len(alerts) == 1  # alerted once, not on every check


def test_approval_from_the_cli_while_running_is_recorded_not_alarmed(tmp_path: Path) -> None:
    with gateway_run(tmp_path) as (monitor, _):
        monitor.store.new_pin("calc", "tool", "add", DEFN, "h1", status="quarantined")
        monitor.check_running()
        cli = SQLiteStore(tmp_path / "store.sqlite3")
        cli.approve("calc", "tool", "add", "alice")
        cli.close()
        assert monitor.check_running() == []
        assert monitor.store.alarm() is None
    generations = [r["details"]["generation"] for r in records(tmp_path) if r["event"] == "store.bound"]
    assert generations == [0, 1, 2]


def test_pin_store_deleted_while_running_is_detected(tmp_path: Path) -> None:
    with gateway_run(tmp_path) as (monitor, _):
        (tmp_path / "store.sqlite3").unlink()
        assert monitor.check_running() == ["integrity.store_deleted"]
        assert monitor.store.alarm() is not None


def test_audit_file_deleted_while_running_starts_a_new_chain_linked_to_the_old(tmp_path: Path) -> None:
    with gateway_run(tmp_path) as (monitor, _):
        old_chain, old_seq = monitor.audit.chain, monitor.audit.seq
        (tmp_path / "audit.jsonl").unlink()
        monitor.check_running()
        assert monitor.audit.chain != old_chain
        assert monitor.store.alarm() is not None
    new = records(tmp_path)
    assert new[0]["reason"] == "audit.deleted"
    assert any(r.get("reason") == "integrity.audit_deleted" for r in new)
    assert new[0]["details"]["previous_chain"] == old_chain
    assert new[0]["details"]["previous_seq"] == old_seq
    assert verify(tmp_path / "audit.jsonl").ok


def test_audit_file_replaced_while_running_is_moved_aside_not_continued(tmp_path: Path) -> None:
    with gateway_run(tmp_path) as (monitor, _):
        forged = tmp_path / "forged.jsonl"
        forged.write_bytes(b'{"event":"nothing to see"}\n')
        forged.replace(tmp_path / "audit.jsonl")
        monitor.check_running()
    aside = list(tmp_path.glob("audit.jsonl.replaced-*"))
    assert any(p.read_bytes() == b'{"event":"nothing to see"}\n' for p in aside)
    assert records(tmp_path)[0]["reason"] == "audit.replaced"


def test_rebind_clears_the_alarm_and_is_recorded_by_the_gateway(tmp_path: Path) -> None:
    first_run_with_a_pin(tmp_path)
    with sqlite3.connect(tmp_path / "store.sqlite3") as conn:
        conn.execute("UPDATE pins SET hash = 'forged'")
    with gateway_run(tmp_path) as (monitor, _):
        assert monitor.store.alarm() is not None
        cli = SQLiteStore(tmp_path / "store.sqlite3")
        cli.rebind("secops")
        cli.close()
        assert monitor.check_running() == []
        assert monitor.store.alarm() is None
    rebound = [r for r in records(tmp_path) if r.get("reason") == "store.rebound"]
    assert rebound and rebound[0]["details"]["by"] == "secops"
    with gateway_run(tmp_path) as (_, problems):
        assert problems == []


def test_an_edit_is_not_laundered_by_a_legitimate_write_before_the_next_check(tmp_path: Path) -> None:
    with gateway_run(tmp_path) as (monitor, _):
        monitor.store.new_pin("calc", "tool", "add", DEFN, "h1", status="quarantined")
        monitor.check_running()
        with sqlite3.connect(tmp_path / "store.sqlite3") as conn:
            conn.execute("UPDATE pins SET status = 'approved', approved_at = 'now', approved_by = 'mallory'")
        cli = SQLiteStore(tmp_path / "store.sqlite3")
        cli.new_pin("calc", "tool", "sub", DEFN, "h2", status="quarantined")  # recomputes the digest
        cli.close()
        assert monitor.check_running() == ["integrity.store_edited"]
        assert monitor.store.alarm() is not None
