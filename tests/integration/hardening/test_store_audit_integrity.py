"""Issue 11, item 14: a deleted or edited pin store, or a deleted audit file, is detected at
start and while running; the gateway alerts and pin decisions fail closed until an operator
runs `mcpwarden audit rebind`."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gwtest.attack import audit_records, call, reason_of
from gwtest.procs import Gateway, gateway, stdio_upstream
from gwtest.raw import body_of, open_session, post

pytestmark = pytest.mark.integration


def _config(tmp_path: Path) -> dict[str, Any]:
    return {
        "audit": {"path": str(tmp_path / "audit.jsonl"), "fsync": "interval"},
        "store": {"path": str(tmp_path / "store.sqlite3")},
        "upstreams": {"feat": stdio_upstream("feat", pinning="tofu")},
    }


def _tools(client: httpx.Client, gw: Gateway, sid: str) -> list[str]:
    reply = body_of(
        post(
            client,
            gw.url("feat"),
            {"jsonrpc": "2.0", "id": 99, "method": "tools/list"},
            **{"mcp-session-id": sid},
        )
    )
    return [t["name"] for t in reply["result"]["tools"]]


def _echo(client: httpx.Client, gw: Gateway, sid: str) -> Any:
    return call(client, gw.url("feat"), sid, "echo", {"text": "hi"}, id_=5)


def _eventually(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.1)


def _first_run(tmp_path: Path) -> None:
    """A gateway that pins the upstream's tools (tofu) and stops cleanly."""
    with gateway(_config(tmp_path), workdir=tmp_path) as gw, httpx.Client(timeout=30) as client:
        sid = open_session(client, gw.url("feat"))
        assert "echo" in _tools(client, gw, sid)
        assert "result" in _echo(client, gw, sid)


def _rebind(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mcpwarden",
            "audit",
            "rebind",
            "--store",
            str(tmp_path / "store.sqlite3"),
            "--by",
            "secops",
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_deleted_pin_store_is_detected_at_start_and_pins_fail_closed_until_rebind(tmp_path: Path) -> None:
    _first_run(tmp_path)
    for f in tmp_path.glob("store.sqlite3*"):
        f.unlink()
    with gateway(_config(tmp_path), workdir=tmp_path) as gw, httpx.Client(timeout=30) as client:
        sid = open_session(client, gw.url("feat"))
        assert _tools(client, gw, sid) == []  # under tofu an empty store would have trusted anything
        assert reason_of(_echo(client, gw, sid)) == "pin.integrity"
        alerts = [r for r in audit_records(gw.audit_path) if r["event"] == "alert"]
        assert "integrity.store_replaced" in [a["reason"] for a in alerts]
        result = _rebind(tmp_path)
        assert result.returncode == 0, result.stderr
        _eventually(lambda: "echo" in _tools(client, gw, sid))
        assert "result" in _echo(client, gw, sid)
        # `rebind` clears the alarm in the store at once (pins work again from then on); the
        # gateway records who rebound at its next periodic check, which may come a moment later.
        _eventually(lambda: any(r.get("reason") == "store.rebound" for r in audit_records(gw.audit_path)))


def test_pin_store_edited_while_running_makes_pin_decisions_fail_closed(tmp_path: Path) -> None:
    with gateway(_config(tmp_path), workdir=tmp_path) as gw, httpx.Client(timeout=30) as client:
        sid = open_session(client, gw.url("feat"))
        assert "echo" in _tools(client, gw, sid)
        with sqlite3.connect(tmp_path / "store.sqlite3") as conn:
            conn.execute("UPDATE pins SET hash = 'f0f0' WHERE name = 'echo'")
        _eventually(lambda: reason_of(_echo(client, gw, sid)) == "pin.integrity")
        assert any(r.get("reason") == "integrity.store_edited" for r in audit_records(gw.audit_path))


def test_audit_file_deleted_while_running_is_detected_and_a_linked_chain_starts(tmp_path: Path) -> None:
    with gateway(_config(tmp_path), workdir=tmp_path) as gw, httpx.Client(timeout=30) as client:
        sid = open_session(client, gw.url("feat"))
        assert "echo" in _tools(client, gw, sid)
        old_chain = audit_records(gw.audit_path)[0]["chain"]
        gw.audit_path.unlink()
        _eventually(lambda: gw.audit_path.exists() and bool(audit_records(gw.audit_path)))
        first = audit_records(gw.audit_path)[0]
        assert first["reason"] == "audit.deleted"
        assert first["details"]["previous_chain"] == old_chain
        _eventually(lambda: reason_of(_echo(client, gw, sid)) == "pin.integrity")


def test_audit_file_deleted_between_runs_is_detected_at_start(tmp_path: Path) -> None:
    _first_run(tmp_path)
    (tmp_path / "audit.jsonl").unlink()
    (tmp_path / "audit.jsonl.head").unlink()
    with gateway(_config(tmp_path), workdir=tmp_path) as gw, httpx.Client(timeout=30) as client:
        sid = open_session(client, gw.url("feat"))
        assert reason_of(_echo(client, gw, sid)) == "pin.integrity"
        assert any(r.get("reason") == "integrity.audit_replaced" for r in audit_records(gw.audit_path))


def test_restart_with_both_files_intact_keeps_pins_working(tmp_path: Path) -> None:
    _first_run(tmp_path)
    with gateway(_config(tmp_path), workdir=tmp_path) as gw, httpx.Client(timeout=30) as client:
        sid = open_session(client, gw.url("feat"))
        assert "result" in _echo(client, gw, sid)
        assert not [
            r for r in audit_records(gw.audit_path) if str(r.get("reason", "")).startswith("integrity.")
        ]
