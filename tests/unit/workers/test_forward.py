"""The relay between workers, in process: what it refuses and answers without a sibling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from mcpwarden.config import GatewayConfig
from mcpwarden.workers import forward
from mcpwarden.workers.forward import WorkerForwarder
from mcpwarden.workers.identity import WorkerSlot

pytestmark = pytest.mark.anyio


class Local:
    """The worker's own app: records what reached it."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        self.bodies.append(message.get("body", b""))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"local"})


def _forwarder(tmp_path: Path, **config: Any) -> tuple[WorkerForwarder, Local, list[tuple[str, int]]]:
    local = Local()
    rejected: list[tuple[str, int]] = []
    slot = WorkerSlot(0, 2, -1, -1, tmp_path)  # no sibling listens in tmp_path
    fw = WorkerForwarder(
        local,
        slot,
        GatewayConfig.model_validate(config),
        idle_s=5,
        on_reject=lambda reason, status: rejected.append((reason, status)),
    )
    return fw, local, rejected


async def _post(app: Any, body: bytes = b"{}", **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
        return await c.post("/mcp", content=body, headers=headers)


async def test_own_and_untagged_sessions_stay_local(tmp_path: Path) -> None:
    fw, local, _ = _forwarder(tmp_path)
    for sid in ("abc.w0", "abc", "abc.w7"):  # ours, untagged, no such worker
        assert (await _post(fw, **{"mcp-session-id": sid})).text == "local"
    assert len(local.bodies) == 3


async def test_a_session_of_a_worker_that_is_gone_is_answered_404_owner_gone(tmp_path: Path) -> None:
    fw, local, _ = _forwarder(tmp_path)
    resp = await _post(fw, **{"mcp-session-id": "abc.w1"})
    assert resp.status_code == 404
    assert resp.json()["error"]["data"]["reason"] == "session.owner_gone"
    assert not local.bodies


async def test_past_the_relay_cap_the_answer_is_503_with_retry_after(tmp_path: Path) -> None:
    fw, _, _ = _forwarder(tmp_path)
    fw.relayed = forward.MAX_RELAYED
    resp = await _post(fw, **{"mcp-session-id": "abc.w1"})
    assert resp.status_code == 503 and resp.headers["retry-after"] == "1"
    assert resp.json()["error"]["data"]["reason"] == "worker.relay_busy"


async def test_a_body_over_the_limit_is_refused_before_any_relay(tmp_path: Path) -> None:
    fw, _, rejected = _forwarder(tmp_path, security={"max_body_bytes": 10})
    resp = await _post(fw, b"x" * 100, **{"mcp-session-id": "abc.w1"})
    assert resp.status_code == 413
    assert rejected == [("transport.body_too_large", 413)]


async def test_a_sessionless_post_is_passed_on_with_its_body_intact(tmp_path: Path) -> None:
    fw, local, _ = _forwarder(tmp_path)
    body = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"requestState":"mw1.bm90.x"}}'
    assert (await _post(fw, body)).text == "local"
    assert local.bodies == [body]
