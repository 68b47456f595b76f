"""The sink process: records written through the fan-out reach real receivers from a child
process, redacted there; its sinks' counters come back for /metrics; a child that dies is
started again and later records still arrive."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gwtest.receivers import HttpReceiver, SyslogReceiver
from mcpwarden.audit import AuditLog
from mcpwarden.audit.sinks.fanout import AuditFanout
from mcpwarden.audit.sinks.worker import SinkProcess

pytestmark = [pytest.mark.integration]

GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def _until(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError("condition not met in time")


def _fanout(tmp_path: Path, syslog: SyslogReceiver, hook: HttpReceiver) -> tuple[AuditFanout, SinkProcess]:
    process = SinkProcess(
        [
            {"type": "syslog", "host": "127.0.0.1", "port": syslog.port, "transport": "udp"},
            {"type": "webhook", "url": hook.url("/hook"), "flush_interval_s": 0.05},
        ]
    )
    fanout = AuditFanout(AuditLog(tmp_path / "audit.jsonl", fsync="never"), forward=process)
    fanout.start()
    return fanout, process


def _alert(n: int) -> dict[str, Any]:
    return {"event": "alert", "reason": "test.alert", "message": f"alert {n} token {GITHUB_TOKEN}"}


def test_records_reach_the_receivers_from_the_child_redacted(tmp_path: Path) -> None:
    syslog, hook = SyslogReceiver("udp"), HttpReceiver()
    fanout, process = _fanout(tmp_path, syslog, hook)
    try:
        written = fanout.write(_alert(1))
        bodies = hook.wait_for(lambda items: sum(len(b["records"]) for b in items) >= 1)
        msgs = syslog.wait_for(lambda items: len(items) >= 1)
        _until(
            lambda: process.remote.get("webhook") is not None and process.remote["webhook"].stats.sent >= 1
        )
    finally:
        fanout.close()
        syslog.close()
        hook.close()
    record = bodies[0]["records"][0]
    assert record["seq"] == written["seq"] and record["hash"] == written["hash"]
    assert GITHUB_TOKEN not in record["message"] and "[REDACTED" in record["message"]
    assert GITHUB_TOKEN not in str(msgs[0])
    assert GITHUB_TOKEN in (tmp_path / "audit.jsonl").read_text()  # the file keeps what happened


def test_a_child_that_dies_is_started_again_and_later_records_arrive(tmp_path: Path) -> None:
    syslog, hook = SyslogReceiver("udp"), HttpReceiver()
    fanout, process = _fanout(tmp_path, syslog, hook)
    try:
        fanout.write(_alert(1))
        hook.wait_for(lambda items: sum(len(b["records"]) for b in items) >= 1)
        assert process._proc is not None
        process._proc.kill()
        process._proc.wait()
        fanout.write(_alert(2))
        fanout.write(_alert(3))
        bodies = hook.wait_for(
            lambda items: any(r["message"].startswith("alert 3") for b in items for r in b["records"])
        )
    finally:
        fanout.close()
        syslog.close()
        hook.close()
    assert process.restarts == 1
    assert any(r["message"].startswith("alert 3") for b in bodies for r in b["records"])


def test_a_child_that_cannot_start_costs_drops_not_writes_and_is_not_restarted_in_a_loop(
    tmp_path: Path,
) -> None:
    process = SinkProcess([{"type": "webhook", "url": "ftp://not-http/hook"}], retry_max_s=0.4)
    fanout = AuditFanout(AuditLog(tmp_path / "audit.jsonl", fsync="never"), forward=process)
    started = time.monotonic()
    fanout.start()
    try:
        written = fanout.write(_alert(1))
        _until(lambda: process.stats.dropped >= 1)
        elapsed = time.monotonic() - started
    finally:
        fanout.close()
    assert written["seq"] == 1  # the file took the record; only the sinks lost it
    assert process.restarts <= elapsed + 1  # at most one start a second, however often it dies
