"""A gateway with neither pin binding nor checkpoints still notices its audit file deleted while
it runs: within about a second a new file starts with an `audit.deleted` alert, and the calls
after it are recorded there."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from gwtest.client import sdk_session
from gwtest.procs import gateway, stdio_upstream
from mcpwarden.audit import verify

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def _records(path: Any) -> list[dict[str, Any]]:
    try:
        return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    except FileNotFoundError:
        return []


async def test_a_deleted_audit_file_is_replaced_by_a_new_chain_with_an_alert() -> None:
    with gateway({"upstreams": {"feat": stdio_upstream("feat", pinning="off")}}) as gw:
        async with sdk_session(gw.url("feat")) as (client, _):
            await client.call_tool("echo", {"text": "before"})
            old_chain = _records(gw.audit_path)[0]["chain"]
            gw.audit_path.unlink()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not _records(gw.audit_path):
                time.sleep(0.05)
            first = _records(gw.audit_path)[0]
            assert first["event"] == "alert" and first["reason"] == "audit.deleted"
            assert first["details"]["previous_chain"] == old_chain
            await client.call_tool("echo", {"text": "after"})
        records = _records(gw.audit_path)
        assert any(r.get("event") == "request" and r.get("tool") == "echo" for r in records)
        assert verify(gw.audit_path).ok
