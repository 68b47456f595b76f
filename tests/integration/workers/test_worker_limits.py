"""Rate limits under `serve --workers 2` on the SQLite store are one limit for both workers,
not one per worker: the buckets live in the store file they share."""

from __future__ import annotations

import pytest

from gwtest.procs import stdio_upstream
from gwtest.raw import body_of
from gwtest.workers import fresh_call, session_on, worker_gateway

pytestmark = pytest.mark.integration

UP = "feat"
BURST = 4


def test_a_tool_limit_is_shared_by_the_sessions_of_both_workers() -> None:
    # A burst of 4 and a refill so slow that no token comes back during the test.
    limits = {"tools": {f"{UP}/add": {"rate": 0.0001, "burst": BURST}}}
    with worker_gateway({"upstreams": {UP: stdio_upstream(UP, timeout_s=30)}, "limits": limits}) as gw:
        url = gw.url(UP)
        sids = [session_on(gw, url, 0), session_on(gw, url, 1)]
        replies = [
            body_of(fresh_call(url, sids[i % 2], "add", {"a": i, "b": 1}, id_=i)) for i in range(3 * BURST)
        ]
    allowed = [r for r in replies if "result" in r]
    refused = [r for r in replies if "error" in r]
    assert len(allowed) == BURST, replies
    assert {r["error"]["data"]["reason"] for r in refused} == {"rate.tool"}
