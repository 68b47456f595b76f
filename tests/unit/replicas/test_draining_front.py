"""A draining replica's HTTP front: no new session, not ready, and the refusal audited.

After SIGTERM the listener closes (tests/integration/gateway/test_graceful_stop.py), but a
request can still arrive on a connection that was open before: it must not start a session
the replica is about to drop. The real ASGI app and core, driven in process, since a real
server closes its idle connections too quickly to aim a request at that window.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from mcpwarden.config import parse_config
from mcpwarden.gateway.app import build_app
from mcpwarden.gateway.core import GatewayCore

pytestmark = pytest.mark.anyio

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
UPSTREAM = {"transport": "http", "url": "http://127.0.0.1:9/mcp", "allow_private": True}
ACCEPT = {"accept": "application/json, text/event-stream"}


@pytest.fixture
async def draining(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Path]]:
    audit = tmp_path / "audit.jsonl"
    config = parse_config(
        {
            "upstreams": {
                "up": {"transport": "http", "url": "http://127.0.0.1:9/mcp", "allow_private": True}
            },
            "store": {"path": str(tmp_path / "store.sqlite3")},
            "audit": {"path": str(audit), "fsync": "never"},
        }
    )
    core = GatewayCore.from_config(config)
    core.enable_registry()
    transport = httpx.ASGITransport(app=build_app(core))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765") as client:
        core.draining = True
        yield client, audit
    await core.stop()
    core.audit.close()


def records(audit: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in audit.read_bytes().splitlines()]


async def test_initialize_on_a_draining_replica_is_503_gateway_draining_and_audited(
    draining: tuple[httpx.AsyncClient, Path],
) -> None:
    client, audit = draining
    resp = await client.post("/servers/up/mcp", json=INITIALIZE, headers=ACCEPT)
    assert resp.status_code == 503
    assert resp.json()["error"]["data"]["reason"] == "gateway.draining"
    assert "another one" in resp.json()["error"]["message"]
    assert any(r["event"] == "rejected" and r.get("reason") == "gateway.draining" for r in records(audit))


async def test_readyz_on_a_draining_replica_is_503_naming_the_drain(
    draining: tuple[httpx.AsyncClient, Path],
) -> None:
    client, _ = draining
    resp = await client.get("/readyz")
    assert resp.status_code == 503 and resp.json()["draining"] is True
