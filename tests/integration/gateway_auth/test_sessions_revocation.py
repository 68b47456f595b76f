"""`mcpwarden sessions list|revoke` acting on a running gateway through its store file."""

from __future__ import annotations

import json
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from gwauth_kit import bearer, reason_of

from gwtest.procs import PYTHON, Gateway
from gwtest.raw import open_session, post
from mcpwarden.gateway.session_registry import session_handle

pytestmark = pytest.mark.integration


def _cli(gw: Gateway, *args: str) -> subprocess.CompletedProcess[str]:
    store = gw.audit_path.parent / "store.sqlite3"
    return subprocess.run(
        [PYTHON, "-m", "mcpwarden", "sessions", *args, "--store", str(store)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _listed(gw: Gateway) -> list[dict[str, Any]]:
    result = _cli(gw, "list", "--json")
    assert result.returncode == 0, result.stderr
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def _session_for(gw: Gateway, oidc_provider: Any, user: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(timeout=20)
    client.headers.update(bearer(oidc_provider.authorization_code(user, gw.url("feat"))["access_token"]))
    return client, open_session(client, gw.url("feat"))


def _list_tools(client: httpx.Client, gw: Gateway, sid: str) -> httpx.Response:
    return post(
        client,
        gw.url("feat"),
        {"jsonrpc": "2.0", "id": 7, "method": "tools/list"},
        **{"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"},
    )


def test_list_shows_live_sessions_by_handle_never_by_id(gw: Gateway, oidc_provider: Any) -> None:
    client, sid = _session_for(gw, oidc_provider, "alice")
    with closing(client):
        rows = [r for r in _listed(gw) if r["subject"] == "alice"]
    assert (
        rows and rows[-1]["client_id"] == "mcp-public-client" and rows[-1]["endpoint"] == "/servers/feat/mcp"
    )
    stored = b"".join(p.read_bytes() for p in gw.audit_path.parent.glob("store.sqlite3*"))
    assert sid.encode() not in stored


def test_revoke_by_handle_ends_the_session_on_its_next_request(gw: Gateway, oidc_provider: Any) -> None:
    client, sid = _session_for(gw, oidc_provider, "alice")
    with closing(client):
        assert _list_tools(client, gw, sid).status_code == 200
        handle = session_handle(sid)
        assert handle in {r["handle"] for r in _listed(gw)}
        result = _cli(gw, "revoke", handle[:12], "--by", "secops")
        assert result.returncode == 0, result.stderr
        r = _list_tools(client, gw, sid)
    assert r.status_code == 404 and reason_of(r) == "session.unknown"
    revoked = [e for e in gw.audit() if e["event"] == "session.revoked"]
    assert revoked and revoked[-1]["session"] == sid


def test_revoke_by_subject_ends_every_session_of_that_user_only(gw: Gateway, oidc_provider: Any) -> None:
    bob1, bob_sid1 = _session_for(gw, oidc_provider, "bob")
    bob2, bob_sid2 = _session_for(gw, oidc_provider, "bob")
    alice, alice_sid = _session_for(gw, oidc_provider, "alice")
    with closing(bob1), closing(bob2), closing(alice):
        result = _cli(gw, "revoke", "--subject", "bob")
        assert result.returncode == 0, result.stderr
        assert _list_tools(bob1, gw, bob_sid1).status_code == 404
        assert _list_tools(bob2, gw, bob_sid2).status_code == 404
        assert _list_tools(alice, gw, alice_sid).status_code == 200


def test_revoking_an_unknown_session_is_a_usage_error(gw: Gateway) -> None:
    result = _cli(gw, "revoke", "0123456789abcdef")
    assert result.returncode == 2 and "no live session" in result.stderr


def test_stopped_gateway_leaves_no_sessions_listed(gw: Gateway, tmp_path: Path) -> None:
    # A store with rows from a process that no longer runs (pid 2**22 + 1 is beyond pid_max).
    from mcpwarden.gateway.session_registry import SessionRegistry
    from mcpwarden.types import Principal

    registry = SessionRegistry(tmp_path / "store.sqlite3", pid=2**22 + 1)
    registry.add("dead-session", Principal(subject="carol"), "/mcp", ["feat"])
    registry.close()
    result = subprocess.run(
        [PYTHON, "-m", "mcpwarden", "sessions", "list", "--json", "--store", str(tmp_path / "store.sqlite3")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and json.loads(result.stdout) == []
