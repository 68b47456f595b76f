"""Operator controls shared by two replicas: rate limits, the kill switch, the session list.

Real processes on real PostgreSQL and Redis (skipped, with the reason, where absent): the
rug-pull MCP server, two `mcpwarden serve` replicas with their admin API and metrics on
ports of their own, and the balancer. A limit spent through one replica is spent on the
other; a disable through A's admin API stops calls on B.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gwtest.cluster import Cluster, Replica, cluster, until
from gwtest.procs import FIXTURES, http_server, http_upstream
from gwtest.raw import body_of, open_session, post
from mcpwarden.gateway.session_registry import session_handle

pytestmark = pytest.mark.integration

UP = "dict"
SECOND = 1.0
# Three flips, then one token every 100 s: nothing refills while a test runs.
FLIP_LIMIT = {"rate": 0.01, "burst": 3}


@pytest.fixture(scope="module")
def pair() -> Iterator[Cluster]:
    with (
        http_server(FIXTURES / "rugpull_server.py", "--profile", "rugpull") as (url, _proc),
        cluster(
            {UP: http_upstream(url, pinning="off", on_poisoning="off")},
            operations=True,
            limits={"tools": {f"{UP}/flip": FLIP_LIMIT}},
        ) as c,
    ):
        yield c


def call_tool(client: httpx.Client, replica: Replica, sid: str, name: str, arguments: dict[str, Any]) -> Any:
    body = {
        "jsonrpc": "2.0",
        "id": 9,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    resp = post(client, replica.url(UP), body, **{"mcp-session-id": sid})
    assert resp.status_code == 200, (resp.status_code, resp.text)
    return body_of(resp)


def admin(replica: Replica, action: str, **body: Any) -> httpx.Response:
    return httpx.post(
        f"{replica.admin_base}/v1/{action}",
        json=body,
        headers={"authorization": f"Bearer {replica.admin_token}"},
        timeout=30,
    )


def test_a_tool_rate_limit_holds_across_both_replicas(pair: Cluster) -> None:
    a, b = pair.replicas
    flip = {"to": "original"}
    with httpx.Client(timeout=30) as client:
        sa, sb = open_session(client, a.url(UP)), open_session(client, b.url(UP))
        allowed = [call_tool(client, r, s, "flip", flip) for r, s in ((a, sa), (b, sb), (a, sa))]
        assert all("result" in reply for reply in allowed), allowed
        refused = [call_tool(client, r, s, "flip", flip) for r, s in ((b, sb), (a, sa))]
    for reply in refused:
        data = reply["error"]["data"]
        assert (data["reason"], data["guard"]) == ("rate.tool", "rate_limit")
        assert data["retry_after"] > 0
    denials = [r for r in b.audit() if r["event"] == "decision" and r.get("reason") == "rate.tool"]
    assert denials, "the refusal is audited on the replica that refused"


def test_the_kill_switch_through_a_stops_calls_on_b_within_a_second_and_is_reversible(
    pair: Cluster,
) -> None:
    a, b = pair.replicas
    lookup = {"word": "replica"}
    with httpx.Client(timeout=30) as client:
        sb = open_session(client, b.url(UP))
        assert "result" in call_tool(client, b, sb, "lookup", lookup)
        done = admin(a, "disable", kind="tool", name=f"{UP}/lookup", reason="incident 42")
        assert done.status_code == 200, done.text

        def refused() -> bool:
            reply = call_tool(client, b, sb, "lookup", lookup)
            return "error" in reply and reply["error"]["data"]["reason"] == "killswitch.tool"

        until(refused, SECOND)
        done = admin(a, "enable", kind="tool", name=f"{UP}/lookup")
        assert done.status_code == 200, done.text
        until(lambda: "result" in call_tool(client, b, sb, "lookup", lookup), SECOND)
    seen = [
        (r["event"], r.get("replica")) for r in b.audit() if r["event"] in ("admin.disable", "admin.enable")
    ]
    assert seen[-2:] == [("admin.disable", "b"), ("admin.enable", "b")], "B audits the change it saw"


def test_a_session_disabled_through_a_is_closed_on_b(pair: Cluster) -> None:
    a, b = pair.replicas
    with httpx.Client(timeout=30) as client:
        sb = open_session(client, b.url(UP))
        done = admin(a, "disable", kind="session", name=sb, reason="stolen")
        assert done.status_code == 200, done.text
        try:

            def gone() -> bool:
                body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
                return post(client, b.url(UP), body, **{"mcp-session-id": sb}).status_code == 404

            until(gone, 5)
        finally:
            admin(a, "enable", kind="session", name=sb)
    killed = [r for r in b.audit() if r["event"] == "session.killed" and r.get("session") == sb]
    assert killed and killed[0]["reason"] == "killswitch.session"


def test_the_cli_kill_switch_lists_what_the_admin_api_of_either_replica_disabled(pair: Cluster) -> None:
    a, b = pair.replicas
    done = admin(b, "disable", kind="server", name="elsewhere", reason="drill")
    assert done.status_code == 200, done.text
    try:
        listed = a.cli("admin", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert {"kind": "server", "name": "elsewhere"}.items() <= json.loads(listed.stdout)[0].items()
    finally:
        assert a.cli("admin", "enable", "server", "elsewhere").returncode == 0
    listed = b.cli("admin", "list", "--json")
    assert json.loads(listed.stdout) == []


def test_admin_sessions_lists_the_sessions_of_every_replica_with_their_counters(pair: Cluster) -> None:
    a, b = pair.replicas
    with httpx.Client(timeout=30) as client:
        sa, sb = open_session(client, a.url(UP)), open_session(client, b.url(UP))
        for _ in range(2):
            call_tool(client, b, sb, "lookup", {"word": "x"})

        def listed() -> dict[str, Any]:
            done = a.cli("admin", "sessions", "--json")
            assert done.returncode == 0, done.stderr
            return {row["handle"]: row for row in json.loads(done.stdout)}

        # Counters reach Redis within the publish interval (a second): wait for them.
        until(lambda: listed().get(session_handle(sb), {}).get("requests", 0) >= 2, 30, step=0.2)
        rows = listed()
    assert rows[session_handle(sa)]["replica"] == "a"
    assert rows[session_handle(sb)]["replica"] == "b"


def test_each_replica_reports_its_store_backends_up_on_metrics(pair: Cluster) -> None:
    for replica in pair.replicas:
        text = httpx.get(f"{replica.metrics_base}/metrics", timeout=30).text
        assert 'mcpwarden_store_up{backend="postgres"} 1.0' in text
        assert 'mcpwarden_store_up{backend="redis"} 1.0' in text
