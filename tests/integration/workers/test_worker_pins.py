"""Pins under `serve --workers 2` on the SQLite store: both workers record the definitions
they are shown in the one file, and an approval written by the CLI is honoured by each."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import httpx
import pytest

from gwtest.procs import FIXTURES, PYTHON, http_server, http_upstream
from gwtest.raw import body_of, post
from gwtest.workers import WorkerGateway, session_on, until, worker_gateway

pytestmark = pytest.mark.integration

UP = "dict"


@pytest.fixture(scope="module")
def gw() -> Iterator[WorkerGateway]:
    with http_server(FIXTURES / "rugpull_server.py", "--profile", "rugpull") as (url, _proc):
        upstream = http_upstream(url, pinning="approve", on_poisoning="off")
        with worker_gateway({"upstreams": {UP: upstream}}) as g:
            yield g


def _tools(url: str, sid: str) -> set[str]:
    body = {"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {}}
    with httpx.Client(timeout=30) as client:
        resp = post(client, url, body, **{"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"})
    assert resp.status_code == 200, resp.text
    return {t["name"] for t in body_of(resp)["result"]["tools"]}


def test_an_approval_through_the_cli_releases_the_tools_on_both_workers(gw: WorkerGateway) -> None:
    url = gw.url(UP)
    sids = [session_on(gw, url, 0), session_on(gw, url, 1)]
    # Under `approve`, definitions seen for the first time are held until an operator approves.
    assert [_tools(url, sid) for sid in sids] == [set(), set()]
    for name in ("lookup", "flip"):
        done = subprocess.run(
            [
                PYTHON,
                "-m",
                "mcpwarden",
                "pins",
                "approve",
                UP,
                name,
                "--by",
                "reviewer",
                "-c",
                str(gw.config_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode in (0, 2), done.stderr
    for sid in sids:
        until(lambda sid=sid: _tools(url, sid) == {"lookup", "flip"}, f"the approval on session {sid[-3:]}")
