"""Batch amplification: batch size and requests in flight are capped per session and per
principal, and batches exist only in sessions that negotiated a revision with batches."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gwtest.procs import Gateway, gateway, stdio_upstream
from gwtest.raw import open_session, post

pytestmark = [pytest.mark.integration]

MAX_BATCH = 4
PER_SESSION = 3
PER_PRINCIPAL = 4


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    config = {
        "sessions": {
            "max_batch": MAX_BATCH,
            "max_in_flight": PER_SESSION,
            "max_in_flight_per_principal": PER_PRINCIPAL,
        },
        "upstreams": {"feat": stdio_upstream("feat", timeout_s=60)},
    }
    with gateway(config) as g:
        yield g


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as c:
        yield c


def _session(client: httpx.Client, gw: Gateway, version: str) -> dict[str, str]:
    sid = open_session(client, gw.url("feat"), version=version)
    return {"mcp-session-id": sid, "mcp-protocol-version": version}


def _ping(id_: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "method": "ping"}


def _hang(id_: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "method": "tools/call", "params": {"name": "hang", "arguments": {}}}


def _reason(msg: dict[str, Any]) -> Any:
    return msg["error"]["data"]["reason"]


def test_batch_within_the_cap_is_answered(gw: Gateway, client: httpx.Client) -> None:
    headers = _session(client, gw, "2025-03-26")
    r = post(client, gw.url("feat"), [_ping(i) for i in range(MAX_BATCH)], **headers)
    assert r.status_code == 200 and sorted(m["id"] for m in r.json()) == list(range(MAX_BATCH))


def test_batch_over_the_cap_is_refused_and_audited(gw: Gateway, client: httpx.Client) -> None:
    headers = _session(client, gw, "2025-03-26")
    r = post(client, gw.url("feat"), [_ping(i) for i in range(MAX_BATCH + 1)], **headers)
    assert r.status_code == 400 and r.json()["error"]["data"]["reason"] == "jsonrpc.batch_too_large"
    assert any(e.get("reason") == "jsonrpc.batch_too_large" for e in gw.audit())


def test_version_header_cannot_unlock_batches_in_a_session_without_them(
    gw: Gateway, client: httpx.Client
) -> None:
    headers = _session(client, gw, "2025-11-25")
    r = post(
        client, gw.url("feat"), [_ping(1), _ping(2)], **{**headers, "mcp-protocol-version": "2025-03-26"}
    )
    assert r.status_code == 400 and r.json()["error"]["data"]["reason"] == "jsonrpc.batch"


def test_requests_beyond_the_session_cap_are_refused_with_a_reason(gw: Gateway, client: httpx.Client) -> None:
    headers = _session(client, gw, "2025-03-26")
    batch = [_hang(i) for i in range(PER_SESSION)] + [_ping(99)]
    answers: list[httpx.Response] = []
    worker = threading.Thread(target=lambda: answers.append(post(client, gw.url("feat"), batch, **headers)))
    worker.start()
    try:
        refused = _wait_for_refusal(gw, headers["mcp-session-id"], "session.too_many_in_flight")
        assert refused["method"] == "ping"
    finally:
        _cancel(client, gw, headers, range(PER_SESSION))
        worker.join(30)
    (reply,) = answers
    (answer,) = reply.json()  # the cancelled calls have no answer
    assert answer["id"] == 99 and _reason(answer) == "session.too_many_in_flight"
    assert answer["error"]["code"] == -32005


def test_one_principal_cannot_exceed_its_cap_across_sessions_and_gets_slots_back(
    gw: Gateway, client: httpx.Client
) -> None:
    first = _session(client, gw, "2025-03-26")
    second = _session(client, gw, "2025-03-26")
    holder = threading.Thread(
        target=post, args=(client, gw.url("feat"), [_hang(i) for i in range(PER_SESSION)]), kwargs=first
    )
    holder.start()
    answers: list[httpx.Response] = []
    late: threading.Thread | None = None
    try:
        _wait_for_in_flight(client, gw, PER_SESSION)
        # One slot is left for this principal: the hang takes it, the ping is refused.
        late = threading.Thread(
            target=lambda: answers.append(post(client, gw.url("feat"), [_hang(10), _ping(11)], **second))
        )
        late.start()
        refused = _wait_for_refusal(gw, second["mcp-session-id"], "principal.too_many_in_flight")
        assert refused["method"] == "ping"
    finally:
        _cancel(client, gw, first, range(PER_SESSION))
        _cancel(client, gw, second, [10])
        holder.join(30)
        if late is not None:
            late.join(30)
    (reply,) = answers
    assert [(m["id"], _reason(m)) for m in reply.json()] == [(11, "principal.too_many_in_flight")]
    _wait_for_in_flight(client, gw, 0)
    r = post(client, gw.url("feat"), _ping(50), **second)
    assert r.json() == {"jsonrpc": "2.0", "id": 50, "result": {}}


def _wait_for_in_flight(client: httpx.Client, gw: Gateway, count: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if client.get(f"{gw.base}/healthz").json()["in_flight"] == count:
            return
        time.sleep(0.05)
    raise AssertionError(f"the gateway never had {count} requests in flight")


def _wait_for_refusal(gw: Gateway, sid: str, reason: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for record in gw.audit():
            if (
                record.get("event") == "request"
                and record.get("session") == sid
                and record.get("reason") == reason
            ):
                return record
        time.sleep(0.05)
    raise AssertionError(f"no request of {sid} was refused with {reason}")


def _cancel(client: httpx.Client, gw: Gateway, headers: dict[str, str], ids: Any) -> None:
    for id_ in ids:
        note = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": id_}}
        post(client, gw.url("feat"), note, **headers)
