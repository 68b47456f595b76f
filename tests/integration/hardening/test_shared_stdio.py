"""Issue 11, item 8: a stdio server declared `shared: true` runs as one process for every
session; each session still gets only its own replies and its own progress."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from gwtest.attack import call
from gwtest.procs import gateway, stdio_upstream
from gwtest.raw import open_session, post

pytestmark = pytest.mark.integration


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _progress_call(client: httpx.Client, url: str, sid: str, steps: int) -> list[dict[str, Any]]:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "slow_progress", "arguments": {"steps": steps}, "_meta": {"progressToken": "p"}},
    }
    resp = post(client, url, body, **{"mcp-session-id": sid})
    # An empty data line is the priming event of a resumable stream, not a message.
    return [
        orjson.loads(line[5:])
        for line in resp.text.splitlines()
        if line.startswith("data:") and line[5:].strip()
    ]


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="counts child processes through /proc")
def test_shared_stdio_upstream_runs_one_process_for_every_session() -> None:
    config = {"upstreams": {"feat": stdio_upstream("feat", shared=True)}}
    with gateway(config) as gw, httpx.Client(timeout=30) as client:
        url = gw.url("feat")
        sids = [open_session(client, url) for _ in range(4)]
        texts = [
            call(client, url, sid, "echo", {"text": f"s{i}"})["result"]["content"][0]["text"]
            for i, sid in enumerate(sids)
        ]
        assert texts == [f"feat: s{i}" for i in range(4)]
        assert len(_children(gw.proc.pid)) == 1
        assert client.delete(url, headers={"mcp-session-id": sids[0]}).status_code == 200
        assert "result" in call(client, url, sids[1], "echo", {"text": "after one left"})


def test_each_session_of_a_shared_process_gets_only_its_own_progress() -> None:
    config = {"upstreams": {"feat": stdio_upstream("feat", shared=True)}}
    with gateway(config) as gw:
        url = gw.url("feat")
        with httpx.Client(timeout=30) as a, httpx.Client(timeout=30) as b:
            sid_a, sid_b = open_session(a, url), open_session(b, url)
            with ThreadPoolExecutor(2) as pool:
                fa = pool.submit(_progress_call, a, url, sid_a, 3)
                fb = pool.submit(_progress_call, b, url, sid_b, 7)
                events_a, events_b = fa.result(), fb.result()
    progress_a = [e for e in events_a if e.get("method") == "notifications/progress"]
    progress_b = [e for e in events_b if e.get("method") == "notifications/progress"]
    assert [p["params"]["total"] for p in progress_a] == [3] * 3
    assert [p["params"]["total"] for p in progress_b] == [7] * 7
    assert all(p["params"]["progressToken"] == "p" for p in progress_a + progress_b)
    assert events_a[-1]["result"]["content"][0]["text"] == "done"
    assert events_b[-1]["result"]["content"][0]["text"] == "done"
