"""`serve --workers 2` on the shared backends (PostgreSQL + Redis): each worker is a replica
of its own (`<id>-w<i>`) in the store and the owner record, stray requests are still relayed
inside the process tree, and a revocation written by the CLI reaches whichever worker holds
the session. Skipped when PostgreSQL or Redis is not reachable."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from gwtest.cluster import store_section
from gwtest.procs import PYTHON, stdio_upstream
from gwtest.raw import body_of
from gwtest.services import redis_or_skip, scratch_prefix, scratch_schema
from gwtest.workers import WorkerGateway, fresh_call, result_text, session_on, until, worker_gateway

pytestmark = pytest.mark.integration

UP = "feat"


@pytest.fixture(scope="module")
def gw() -> Iterator[WorkerGateway]:
    redis_or_skip()
    with scratch_schema() as schema, scratch_prefix() as prefix:
        config = {
            "upstreams": {UP: stdio_upstream(UP, timeout_s=30)},
            "store": store_section(schema, prefix),
            "replica": {"id": "gw"},
        }
        with worker_gateway(config) as g:
            yield g


def test_sessions_of_both_workers_are_served_whichever_worker_a_request_reaches(gw: WorkerGateway) -> None:
    url = gw.url(UP)
    for index in (0, 1):
        sid = session_on(gw, url, index)
        for reached in (index, 1 - index):
            with gw.on_worker(reached) as via:
                resp = fresh_call(url, sid, "echo", {"text": "pg"}, via=via)
            assert result_text(resp) == "feat: pg"
            assert resp.headers.get("mcpwarden-relayed-by") == (None if reached == index else f"w{reached}")
        assert {r["replica"] for r in gw.audit(index)} == {f"gw-w{index}"}


def test_a_session_revoked_through_the_cli_is_refused_by_its_worker(gw: WorkerGateway) -> None:
    url = gw.url(UP)
    sid = session_on(gw, url, 1)
    done = subprocess.run(
        [PYTHON, "-m", "mcpwarden", "sessions", "revoke", sid, "--by", "ops", "-c", str(gw.config_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr

    def refused() -> bool:
        resp = fresh_call(url, sid, "echo", {"text": "still?"})
        return resp.status_code != 200 or "error" in body_of(resp)

    until(refused, "the revoked session to be refused")
    assert any(r["event"] == "session.revoked" and r["session"] == sid for r in gw.audit(1))
