"""Sessions under `serve --workers 2`: each lives in the worker that minted it, and every
request for it that reaches the other worker (a new connection, the GET stream, DELETE) is
relayed to the owner and answered as if it had gone there directly.

A real supervisor and two workers on the SQLite store, the SDK features server over stdio
behind them, and the official SDK client or raw HTTP on the client side.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import httpx2
import orjson
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CreateMessageResult, ResourceUpdatedNotification, TextContent

from gwtest.procs import PYTHON, stdio_upstream
from gwtest.raw import HEADERS, body_of, post, stateless_meta, stateless_post
from gwtest.workers import WorkerGateway, fresh_call, result_text, session_on, until, worker_gateway

pytestmark = pytest.mark.integration

UP = "feat"
VERSION = {"mcp-protocol-version": "2025-11-25"}


@pytest.fixture(scope="module")
def gw() -> Iterator[WorkerGateway]:
    with worker_gateway({"upstreams": {UP: stdio_upstream(UP, timeout_s=30)}}) as g:
        yield g


def test_each_worker_mints_sessions_that_work(gw: WorkerGateway) -> None:
    for index in (0, 1):
        sid = session_on(gw, gw.url(UP), index)
        assert result_text(fresh_call(gw.url(UP), sid, "echo", {"text": f"w{index}"})) == f"feat: w{index}"


def test_calls_reaching_the_other_worker_are_relayed_to_the_owner(gw: WorkerGateway) -> None:
    sid = session_on(gw, gw.url(UP), 0)
    with gw.on_worker(0) as owner, gw.on_worker(1) as other:
        for n, (via, relayed) in enumerate([(other, "w1"), (owner, None), (other, "w1"), (other, "w1")]):
            resp = fresh_call(gw.url(UP), sid, "add", {"a": n, "b": 1}, id_=n + 1, via=via)
            assert resp.status_code == 200, resp.text
            assert body_of(resp)["result"]["structuredContent"] == {"result": n + 1}
            assert resp.headers.get("mcpwarden-relayed-by") == relayed
    # The owner audited every call, relayed or not; the other worker none.
    calls = [
        r
        for r in gw.audit(0)
        if r.get("session") == sid and r.get("method") == "tools/call" and r["event"] == "request"
    ]
    assert len(calls) == 4
    assert not [r for r in gw.audit(1) if r.get("session") == sid]


def test_calls_on_new_tcp_connections_are_answered_whichever_worker_accepts_them(gw: WorkerGateway) -> None:
    sids = [session_on(gw, gw.url(UP), 0), session_on(gw, gw.url(UP), 1)]
    for n in range(6):
        sid = sids[n % 2]
        resp = fresh_call(gw.url(UP), sid, "add", {"a": n, "b": 1}, id_=n + 1)
        assert resp.status_code == 200, resp.text
        assert body_of(resp)["result"]["structuredContent"] == {"result": n + 1}
        assert resp.headers.get("mcpwarden-relayed-by") in (None, f"w{1 - int(sid[-1])}")


def _subscribe(url: str, sid: str) -> None:
    body = {"jsonrpc": "2.0", "id": 7, "method": "resources/subscribe", "params": {"uri": "note://static"}}
    with httpx.Client(timeout=30) as client:
        resp = post(client, url, body, **{"mcp-session-id": sid, **VERSION})
    assert resp.status_code == 200 and "result" in body_of(resp), resp.text


def test_get_stream_opened_on_the_other_worker_delivers_the_sessions_notifications(gw: WorkerGateway) -> None:
    url = gw.url(UP)
    sid = session_on(gw, url, 1)
    _subscribe(url, sid)
    headers = {"accept": "text/event-stream", "mcp-session-id": sid, **VERSION}
    with gw.on_worker(0) as other, other.stream("GET", url, headers=headers) as stream:
        assert stream.status_code == 200, stream.read()
        assert stream.headers.get("mcpwarden-relayed-by") == "w0"
        assert result_text(fresh_call(url, sid, "touch_note", {})) == "notified"
        for line in stream.iter_lines():
            data = line[5:].strip() if line.startswith("data:") else ""
            if data and orjson.loads(data).get("method") == "notifications/resources/updated":
                return
    raise AssertionError("the relayed stream ended without the notification")


def test_delete_reaching_the_other_worker_ends_the_session_on_its_owner(gw: WorkerGateway) -> None:
    url = gw.url(UP)
    sid = session_on(gw, url, 0)
    with gw.on_worker(1) as other:
        resp = other.delete(url, headers={"mcp-session-id": sid, **VERSION})
    assert resp.status_code in (200, 204), resp.text
    assert resp.headers.get("mcpwarden-relayed-by") == "w1"
    after = fresh_call(url, sid, "echo", {"text": "gone?"})
    assert after.status_code == 404, after.text
    until(
        lambda: any(r.get("event") == "session.end" and r.get("session") == sid for r in gw.audit(0)),
        "the owner's session.end record",
    )


@pytest.mark.anyio
async def test_sdk_client_on_new_connections_uses_every_feature_across_workers(gw: WorkerGateway) -> None:
    """No keep-alive: every POST and the GET stream take a new connection, so about half of a
    session's requests reach the worker that does not hold it."""
    sampled: list[str] = []

    async def on_sampling(_ctx: Any, params: Any) -> CreateMessageResult:
        sampled.append(params.messages[0].content.text)
        return CreateMessageResult(role="assistant", content=TextContent(type="text", text="ok"), model="m")

    for round_ in range(4):
        updates: list[Any] = []

        async def on_message(message: Any, updates: list[Any] = updates) -> None:
            if isinstance(message, ResourceUpdatedNotification):
                updates.append(message)

        limits = httpx2.Limits(max_keepalive_connections=0)
        async with (
            httpx2.AsyncClient(limits=limits, timeout=30) as http,
            streamable_http_client(gw.url(UP), http_client=http) as (read, write),
            ClientSession(read, write, sampling_callback=on_sampling, message_handler=on_message) as s,
        ):
            await s.initialize()
            assert "echo" in {t.name for t in (await s.list_tools()).tools}
            echoed = (await s.call_tool("echo", {"text": f"r{round_}"})).content[0]
            assert isinstance(echoed, TextContent) and echoed.text == f"feat: r{round_}"
            await s.subscribe_resource("note://static")  # type: ignore[arg-type]
            await s.call_tool("touch_note", {})
            answer = (await s.call_tool("ask_model", {"question": f"q{round_}"})).content[0]
            assert isinstance(answer, TextContent) and "ok" in answer.text
            with anyio.fail_after(60):
                while not updates:
                    await anyio.sleep(0.05)
    assert len(sampled) == 4


def _revoke(gw: WorkerGateway, sid: str) -> None:
    done = subprocess.run(
        [
            PYTHON,
            "-m",
            "mcpwarden",
            "sessions",
            "revoke",
            "--store",
            str(gw.workdir / "store.sqlite3"),
            "--",
            sid,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_a_revoked_session_is_refused_whichever_worker_the_request_reaches(gw: WorkerGateway) -> None:
    url = gw.url(UP)
    sids = [session_on(gw, url, 0), session_on(gw, url, 1)]
    for sid in sids:
        _revoke(gw, sid)
    with gw.on_worker(0) as w0, gw.on_worker(1) as w1:
        for sid in sids:

            def refused_on_both(sid: str = sid) -> bool:
                for via in (w0, w1):
                    resp = fresh_call(url, sid, "echo", {"text": "still there?"}, via=via)
                    if resp.status_code == 200 and "result" in body_of(resp):
                        return False  # the owner has not seen the revocation yet
                return True

            until(refused_on_both, f"session {sid[-3:]} refused directly and through the other worker")


def test_a_request_with_an_unknown_worker_tag_is_answered_by_the_worker_it_reaches(gw: WorkerGateway) -> None:
    with httpx.Client(timeout=30) as client:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        resp = client.post(
            gw.url(UP), content=orjson.dumps(body), headers={**HEADERS, "mcp-session-id": "x.w9"}
        )
    assert resp.status_code == 404 and "mcpwarden-relayed-by" not in resp.headers


def _confirm(client: httpx.Client, url: str, id_: str, **params: Any) -> httpx.Response:
    """A 2026-07-28 `tools/call` of `confirm_action` (elicits mid-call)."""
    call = {"name": "confirm_action", "arguments": {"action": "deploy"}, **params}
    meta = stateless_meta(capabilities={"elicitation": {}})
    return stateless_post(client, url, "tools/call", call, id_=id_, meta=meta)


@pytest.mark.parametrize("holder", [0, 1])
def test_a_stateless_retry_reaching_the_other_worker_resumes_the_held_call(
    gw: WorkerGateway, holder: int
) -> None:
    url = gw.url(UP)
    with gw.on_worker(holder) as first_worker, gw.on_worker(1 - holder) as other:
        first = body_of(_confirm(first_worker, url, "a"))["result"]
        assert first["resultType"] == "input_required", first
        assert first["requestState"]  # its handle names the holder
        answers = {key: {"action": "accept", "content": {"confirm": True}} for key in first["inputRequests"]}
        retry = _confirm(other, url, "b", inputResponses=answers, requestState=first["requestState"])
    assert retry.status_code == 200, retry.text
    assert "error" not in body_of(retry), retry.text
    assert retry.headers.get("mcpwarden-relayed-by") == f"w{1 - holder}"


def _admin_cli(gw: WorkerGateway, *args: str) -> None:
    store = str(gw.workdir / "store.sqlite3")
    done = subprocess.run(
        [PYTHON, "-m", "mcpwarden", "admin", *args, "--store", store],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_a_tool_disabled_through_the_cli_is_refused_by_both_workers_at_once(gw: WorkerGateway) -> None:
    url = gw.url(UP)
    sids = [session_on(gw, url, 0), session_on(gw, url, 1)]
    _admin_cli(gw, "disable", "tool", f"{UP}/add")
    try:
        # The kill switch is checked on every message against the store's commit counter:
        # the next call after the CLI returns is refused, whichever worker holds the session.
        for sid in sids:
            reply = body_of(fresh_call(url, sid, "add", {"a": 1, "b": 2}))
            assert reply["error"]["data"]["reason"] == "killswitch.tool", reply
    finally:
        _admin_cli(gw, "enable", "tool", f"{UP}/add")
    for sid in sids:
        assert body_of(fresh_call(url, sid, "add", {"a": 1, "b": 2}))["result"]["structuredContent"] == {
            "result": 3
        }
