"""Two gateway replicas on real PostgreSQL and Redis, behind the project's balancer.

Each test starts real processes: the rug-pull MCP server (one HTTP server both replicas
reach), two `mcpwarden serve` replicas sharing a scratch schema and key prefix, and the
balancer with Mcp-Session-Id affinity. Skipped, with the reason, where PostgreSQL or Redis
is not reachable.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gwtest.cluster import Cluster, cluster, until
from gwtest.procs import http_server, http_upstream
from gwtest.raw import body_of, open_session, post
from mcpwarden.gateway.session_registry import session_handle

pytestmark = pytest.mark.integration

FIXTURE = "rugpull_server.py"
UP = "dict"
SECOND = 1.0


@pytest.fixture(scope="module")
def rugpull_url() -> Iterator[str]:
    from gwtest.procs import FIXTURES

    with http_server(FIXTURES / FIXTURE, "--profile", "rugpull") as (url, _proc):
        yield url


@pytest.fixture(scope="module")
def pair(rugpull_url: str) -> Iterator[Cluster]:
    with cluster({UP: http_upstream(rugpull_url, pinning="approve", on_poisoning="off")}) as c:
        yield c


def call(client: httpx.Client, url: str, sid: str, method: str, params: dict[str, Any], id_: Any = 7) -> Any:
    body = {"jsonrpc": "2.0", "id": id_, "method": method, "params": params}
    resp = post(client, url, body, **{"mcp-session-id": sid})
    assert resp.status_code == 200, (resp.status_code, resp.text)
    return body_of(resp)


def tool_names(client: httpx.Client, url: str, sid: str) -> set[str]:
    reply = call(client, url, sid, "tools/list", {})
    return {t["name"] for t in reply["result"]["tools"]}


def approve_all(replica: Any, client: httpx.Client, url: str, sid: str) -> None:
    """List once (so the tools are pinned), then approve them as an operator through `replica`."""
    tool_names(client, url, sid)
    for name in ("lookup", "flip"):
        done = replica.cli("pins", "approve", UP, name, "--by", "reviewer")
        assert done.returncode in (0, 2), done.stderr


# -- health ---------------------------------------------------------------------------------


def test_each_replica_reports_ready_with_its_store(pair: Cluster) -> None:
    for replica in pair.replicas:
        ready = httpx.get(f"{replica.base}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["replica"] == replica.id
        assert (body["postgres"], body["redis"], body["change_feed"]) == ("ok", "ok", "subscribed")


# -- sessions -------------------------------------------------------------------------------


def test_balancer_spreads_new_sessions_and_keeps_each_on_its_replica(pair: Cluster) -> None:
    url = pair.url(UP)
    with httpx.Client(timeout=30) as client:
        sessions = [open_session(client, url) for _ in range(4)]
        approve_all(pair.replicas[0], client, url, sessions[0])
        for sid in sessions:
            for _ in range(3):
                assert "flip" in tool_names(client, url, sid)
    owners = {
        r.id: {rec.get("session") for rec in r.audit() if rec["event"] == "session.start"}
        for r in pair.replicas
    }
    assert all(any(sid in owned for owned in owners.values()) for sid in sessions)
    assert all(set(sessions) & owned for owned in owners.values()), "round-robin reached both replicas"


def test_stray_request_gets_404_naming_the_owning_replica(pair: Cluster) -> None:
    a, b = pair.replicas
    with httpx.Client(timeout=30) as client:
        sid = open_session(client, a.url(UP))
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
        stray = post(client, b.url(UP), body, **{"mcp-session-id": sid})
    assert stray.status_code == 404
    assert stray.headers["mcpwarden-session-owner"] == "a"
    assert stray.json()["error"]["data"]["reason"] == "session.other_replica"


def test_session_revoked_through_a_dies_on_b(pair: Cluster) -> None:
    a, b = pair.replicas
    with httpx.Client(timeout=30) as client:
        sid = open_session(client, b.url(UP))
        approve_all(a, client, b.url(UP), sid)
        assert "flip" in tool_names(client, b.url(UP), sid)
        done = a.cli("sessions", "revoke", sid, "--by", "ops")
        assert done.returncode == 0, done.stderr

        def gone() -> bool:
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
            return post(client, b.url(UP), body, **{"mcp-session-id": sid}).status_code == 404

        until(gone, SECOND)
    revoked = [r for r in b.audit() if r["event"] == "session.revoked"]
    assert revoked and revoked[-1]["session"] == sid and revoked[-1]["replica"] == "b"


def test_rug_pull_approved_through_a_is_released_on_b_within_a_second(pair: Cluster) -> None:
    a, b = pair.replicas
    with httpx.Client(timeout=30) as client:
        sa = open_session(client, a.url(UP))
        sb = open_session(client, b.url(UP))
        approve_all(a, client, b.url(UP), sb)
        assert tool_names(client, b.url(UP), sb) == {"lookup", "flip"}
        # The rug pull, through A: the one upstream both replicas use now serves a new lookup.
        tool_names(client, a.url(UP), sa)
        call(client, a.url(UP), sa, "tools/call", {"name": "flip", "arguments": {"to": "pulled"}})
        try:
            assert "lookup" not in tool_names(client, a.url(UP), sa)
            # B holds the changed definition back too: it re-lists and finds it pending.
            assert "lookup" not in tool_names(client, b.url(UP), sb)
            denied = call(client, b.url(UP), sb, "tools/call", {"name": "lookup", "arguments": {"word": "x"}})
            assert "error" in denied
            done = a.cli("pins", "approve", UP, "lookup", "--by", "reviewer")
            assert done.returncode == 0, done.stderr
            until(lambda: "lookup" in tool_names(client, b.url(UP), sb), SECOND)
        finally:
            call(client, a.url(UP), sa, "tools/call", {"name": "flip", "arguments": {"to": "original"}})
            a.cli("pins", "approve", UP, "lookup", "--by", "reviewer")


def test_sessions_list_shows_sessions_of_every_replica_with_their_owner(pair: Cluster) -> None:
    a, b = pair.replicas
    with httpx.Client(timeout=30) as client:
        sa = open_session(client, a.url(UP))
        sb = open_session(client, b.url(UP))
    import json

    done = a.cli("sessions", "list", "--json")
    assert done.returncode == 0, done.stderr
    owners = {row["handle"]: row["replica"] for row in json.loads(done.stdout)}
    assert owners[session_handle(sa)] == "a" and owners[session_handle(sb)] == "b"
