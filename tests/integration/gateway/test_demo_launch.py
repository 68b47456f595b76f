"""`make run`'s launcher starts the gateway in front of the bundled demo server."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gwtest.client import sdk_session
from gwtest.procs import PYTHON, free_port, stop, wait_http

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_demo_launcher_serves_the_notes_server_with_audit(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [PYTHON, "-m", "mcpwarden.demo.launch"],
        cwd=tmp_path,
        env={**os.environ, "MCPWARDEN_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc=proc)
        async with sdk_session(f"http://127.0.0.1:{port}/servers/notes/mcp") as (s, _):
            names = {t.name for t in (await s.list_tools()).tools}
            assert "search_notes" in names and "delete_note" not in names
    finally:
        stop(proc)
    banner = proc.stderr.read().decode() if proc.stderr else ""
    assert f"http://127.0.0.1:{port}/mcp" in banner
    assert (tmp_path / "var" / "audit.jsonl").exists()
