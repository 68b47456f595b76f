"""Resumable SSE streams towards clients (2025-11-25): every stream starts with a priming
event (an id and a retry hint), every event has an id, and a client whose connection drops
resumes with GET and Last-Event-ID, missing nothing of a long call."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from gwtest.procs import FIXTURES, Gateway, gateway, http_server, http_upstream
from gwtest.raw import HEADERS, open_session, post

pytestmark = [pytest.mark.integration]

STREAM_SERVER = FIXTURES / "stream_server.py"
STEPS = 6
RETRY_MS = 750


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    with http_server(STREAM_SERVER) as (url, _):
        config = {
            "sessions": {"sse_retry_ms": RETRY_MS},
            "upstreams": {"slow": http_upstream(url, timeout_s=60)},
        }
        with gateway(config) as g:
            yield g


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as c:
        yield c


def _session(client: httpx.Client, gw: Gateway, version: str = "2025-11-25") -> dict[str, str]:
    sid = open_session(client, gw.url("slow"), version=version)
    return {"mcp-session-id": sid, "mcp-protocol-version": version}


def _slow_call(id_: int, delay: float) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": id_,
        "method": "tools/call",
        "params": {
            "name": "slow_steps",
            "arguments": {"steps": STEPS, "delay": delay},
            "_meta": {"progressToken": f"tok-{id_}"},
        },
    }


def _events(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """SSE events as {field: value}; comments are skipped."""
    event: dict[str, str] = {}
    for line in lines:
        if not line:
            if event:
                yield event
            event = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            event[name] = value.removeprefix(" ")


def _messages(events: list[dict[str, str]]) -> list[dict[str, Any]]:
    return [orjson.loads(e["data"]) for e in events if e.get("data")]


def test_request_stream_starts_with_a_priming_event_and_numbers_every_event(
    gw: Gateway, client: httpx.Client
) -> None:
    headers = {**HEADERS, **_session(client, gw)}
    with client.stream(
        "POST", gw.url("slow"), content=orjson.dumps(_slow_call(2, 0.0)), headers=headers
    ) as r:
        events = list(_events(r.iter_lines()))
    priming, rest = events[0], events[1:]
    assert priming["id"] and priming.get("data", "") == "" and priming["retry"] == str(RETRY_MS)
    assert all(e["id"] for e in rest)
    assert len({e["id"] for e in events}) == len(events)
    assert _messages(rest)[-1]["result"]["content"][0]["text"] == f"finished {STEPS} steps"


def test_long_call_survives_a_dropped_connection(gw: Gateway, client: httpx.Client) -> None:
    session = _session(client, gw)
    headers = {**HEADERS, **session}
    seen: list[dict[str, str]] = []
    with client.stream(
        "POST", gw.url("slow"), content=orjson.dumps(_slow_call(3, 0.3)), headers=headers
    ) as r:
        for event in _events(r.iter_lines()):
            seen.append(event)
            if event.get("data"):
                break  # the first progress event: now the connection drops
    last_id = seen[-1]["id"]
    get_headers = {**session, "accept": "text/event-stream", "last-event-id": last_id}
    with client.stream("GET", gw.url("slow"), headers=get_headers) as r:
        assert r.status_code == 200
        resumed = list(_events(r.iter_lines()))
    messages = _messages(seen) + _messages(resumed)
    progress = [m["params"]["progress"] for m in messages if m.get("method") == "notifications/progress"]
    assert progress == list(range(1, STEPS + 1))
    assert messages[-1]["id"] == 3
    assert messages[-1]["result"]["content"][0]["text"] == f"finished {STEPS} steps"


def test_finished_call_is_replayed_to_a_client_that_reconnects_late(
    gw: Gateway, client: httpx.Client
) -> None:
    session = _session(client, gw)
    headers = {**HEADERS, **session}
    with client.stream(
        "POST", gw.url("slow"), content=orjson.dumps(_slow_call(4, 0.0)), headers=headers
    ) as r:
        priming = next(_events(r.iter_lines()))
    # Wait for the call to finish on the gateway (its request record is written at the end).
    _wait_for_request_record(gw, session["mcp-session-id"])
    get_headers = {**session, "accept": "text/event-stream", "last-event-id": priming["id"]}
    with client.stream("GET", gw.url("slow"), headers=get_headers) as r:
        messages = _messages(list(_events(r.iter_lines())))
    assert len(messages) == STEPS + 1
    assert messages[-1]["result"]["content"][0]["text"] == f"finished {STEPS} steps"


def test_unknown_last_event_id_is_refused_and_audited(gw: Gateway, client: httpx.Client) -> None:
    session = _session(client, gw)
    r = client.get(
        gw.url("slow"),
        headers={**session, "accept": "text/event-stream", "last-event-id": "no-such-stream:4"},
    )
    assert r.status_code == 404 and r.json()["error"]["data"]["reason"] == "stream.unknown"
    assert any(e.get("reason") == "stream.unknown" for e in gw.audit())


def test_event_id_of_another_session_replays_nothing(gw: Gateway, client: httpx.Client) -> None:
    owner = _session(client, gw)
    with client.stream(
        "POST", gw.url("slow"), content=orjson.dumps(_slow_call(7, 0.0)), headers={**HEADERS, **owner}
    ) as r:
        priming = next(_events(r.iter_lines()))
    other = _session(client, gw)
    r = client.get(
        gw.url("slow"), headers={**other, "accept": "text/event-stream", "last-event-id": priming["id"]}
    )
    assert r.status_code == 404 and r.json()["error"]["data"]["reason"] == "stream.unknown"


def test_older_revision_gets_event_ids_but_no_priming_event(gw: Gateway, client: httpx.Client) -> None:
    headers = {**HEADERS, **_session(client, gw, "2025-06-18")}
    with client.stream(
        "POST", gw.url("slow"), content=orjson.dumps(_slow_call(5, 0.0)), headers=headers
    ) as r:
        events = list(_events(r.iter_lines()))
    assert all(e.get("data") for e in events)
    assert all(e["id"] for e in events)


def _wait_for_request_record(gw: Gateway, sid: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(
            e.get("event") == "request" and e.get("method") == "tools/call" and e.get("session") == sid
            for e in gw.audit()
        ):
            return
        time.sleep(0.05)
    raise AssertionError("the call never finished")


def test_post_of_a_session_keeps_json_for_immediate_answers(gw: Gateway, client: httpx.Client) -> None:
    r = post(client, gw.url("slow"), {"jsonrpc": "2.0", "id": 6, "method": "ping"}, **_session(client, gw))
    assert r.headers["content-type"].startswith("application/json")
