"""Issue 11, item 12: with the audit disk full, a call that cannot be audited is refused
with a clear JSON-RPC error and never forwarded; service resumes by itself when space
returns, with an alert, and the audit file still verifies. The disk is a real small tmpfs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gwtest.attack import audit_records, call, fill_disk, reason_of, small_filesystem
from gwtest.procs import FIXTURES, Gateway, gateway, http_server, http_upstream
from gwtest.raw import open_session

pytestmark = pytest.mark.integration

LEDGER_SERVER = FIXTURES / "ledger_server.py"


@pytest.fixture()
def ledger(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    path = tmp_path / "ledger.txt"
    with http_server(LEDGER_SERVER, "--ledger", str(path)) as (url, _):
        yield url, path


def _gateway(tmp_path: Path, disk: Path, url: str, on_failure: str) -> Any:
    config = {
        "audit": {"path": str(disk / "audit.jsonl"), "fsync": "always", "on_failure": on_failure},
        "store": {"path": str(tmp_path / "store.sqlite3")},
        "upstreams": {"ledger": http_upstream(url, pinning="off")},
    }
    return gateway(config, workdir=tmp_path)


def _note(client: httpx.Client, gw: Gateway, sid: str, marker: str, id_: int) -> Any:
    return call(client, gw.url("ledger"), sid, "note", {"marker": marker}, id_=id_)


def test_full_audit_disk_refuses_calls_unforwarded_and_service_resumes_when_space_returns(
    tmp_path: Path, ledger: tuple[str, Path]
) -> None:
    url, seen = ledger
    with (
        small_filesystem(256) as disk,
        _gateway(tmp_path, disk, url, "refuse") as gw,
        httpx.Client(timeout=30) as client,
    ):
        sid = open_session(client, gw.url("ledger"))
        assert "result" in _note(client, gw, sid, "before", 1)
        filler = fill_disk(disk)
        # The audit file may still grow into the rest of its last page; a few calls use it up.
        replies = [_note(client, gw, sid, f"slack-{i}", 100 + i) for i in range(20)]
        assert reason_of(replies[-1]) == "audit.unavailable"
        refused = [_note(client, gw, sid, f"full-{i}", 10 + i) for i in range(5)]
        assert [reason_of(r) for r in refused] == ["audit.unavailable"] * 5
        assert refused[0]["error"]["code"] == -32006
        assert "audit" in refused[0]["error"]["message"]
        assert not [m for m in seen.read_text().split() if m.startswith("full-")]  # never forwarded
        filler.unlink()
        assert "result" in _note(client, gw, sid, "after", 20)
        records = audit_records(gw.audit_path)
        resumed = [r for r in records if r.get("reason") == "audit.resumed"]
        assert len(resumed) == 1 and resumed[0]["details"]["refused_records"] >= 5
        verdict = subprocess.run(
            [sys.executable, "-m", "mcpwarden", "audit", "verify", str(gw.audit_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert verdict.returncode == 0, verdict.stdout
    assert b"cannot be written" in gw.log_path.read_bytes()


def test_on_failure_continue_serves_calls_while_the_audit_disk_is_full(
    tmp_path: Path, ledger: tuple[str, Path]
) -> None:
    url, seen = ledger
    with (
        small_filesystem(256) as disk,
        _gateway(tmp_path, disk, url, "continue") as gw,
        httpx.Client(timeout=30) as client,
    ):
        sid = open_session(client, gw.url("ledger"))
        filler = fill_disk(disk)
        # More records than the rest of the audit file's last page holds: the later ones fail.
        replies = [_note(client, gw, sid, f"unaudited-{i}", 100 + i) for i in range(20)]
        assert all("result" in r for r in replies)
        assert {f"unaudited-{i}" for i in range(20)} <= set(seen.read_text().split())
        filler.unlink()
        assert "result" in _note(client, gw, sid, "audited", 2)
        records = audit_records(gw.audit_path)
        assert any(r.get("reason") == "audit.resumed" for r in records)
