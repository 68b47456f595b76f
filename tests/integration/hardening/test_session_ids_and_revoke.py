"""Issue 11, item 17: session ids never begin with `-`, and the CLI revokes one that does
(minted by an older gateway) when it follows `--`."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from gwtest.procs import PYTHON, gateway, stdio_upstream
from gwtest.raw import open_session
from mcpwarden.gateway.session_registry import SessionRegistry, new_session_id, session_handle
from mcpwarden.types import Principal

pytestmark = pytest.mark.integration


def _revoke(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "mcpwarden", "sessions", "revoke", "--store", str(store), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_minted_session_ids_never_begin_with_a_dash() -> None:
    # With plain URL-safe base64, 1 id in 64 began with '-': 5,000 draws would all but
    # certainly have shown one.
    ids = [new_session_id() for _ in range(5000)]
    assert not [s for s in ids if s.startswith("-")]
    assert len(set(ids)) == len(ids)
    assert all(len(s) == 43 for s in ids)


def test_revoke_accepts_an_id_beginning_with_a_dash_after_double_dash(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite3"
    sid = "-Rt" + "A" * 40
    registry = SessionRegistry(store, pid=os.getpid())  # a live "gateway": this process
    registry.add(sid, Principal(subject="carol"), "/mcp", ["feat"])
    try:
        result = _revoke(store, "--by", "secops", "--", sid)
        assert result.returncode == 0, result.stderr
        assert "revoked" in result.stdout
        row = next(r for r in registry.rows() if r.handle == session_handle(sid))
        assert row.revoked_at is not None and row.revoked_by == "secops"
    finally:
        registry.close()


def test_id_beginning_with_a_dash_without_double_dash_is_a_usage_error_not_a_revocation(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store.sqlite3"
    sid = "-Rt" + "B" * 40
    registry = SessionRegistry(store, pid=os.getpid())
    registry.add(sid, Principal(subject="carol"), "/mcp", ["feat"])
    try:
        result = _revoke(store, sid)
        assert result.returncode == 2
        assert all(r.revoked_at is None for r in registry.rows())
    finally:
        registry.close()


def test_gateway_sessions_are_revocable_by_their_id_from_the_cli(tmp_path: Path) -> None:
    config = {"upstreams": {"feat": stdio_upstream("feat")}}
    with gateway(config, workdir=tmp_path) as gw, httpx.Client(timeout=30) as client:
        sids = [open_session(client, gw.url("feat")) for _ in range(3)]
        assert not [s for s in sids if s.startswith("-")]
        result = _revoke(tmp_path / "store.sqlite3", "--", sids[0])
        assert result.returncode == 0, result.stderr
        # The gateway polls the store for revocations about once a second.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _revoked(gw.audit(), sids[0]):
            time.sleep(0.1)
        assert _revoked(gw.audit(), sids[0])


def _revoked(records: list[dict[str, Any]], sid: str) -> bool:
    return any(r["event"] == "session.revoked" and r.get("session") == sid for r in records)
