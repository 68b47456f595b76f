"""Issue 11, item 13: a gateway killed mid-write leaves a torn audit tail; the next start
recovers it (kept aside, recorded in the chain) instead of refusing to start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest

from gwtest.procs import gateway, stdio_upstream
from gwtest.raw import open_session

pytestmark = pytest.mark.integration


def test_gateway_starts_on_a_torn_audit_tail_and_verify_reports_the_recovery(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    config = {
        "audit": {"path": str(audit), "fsync": "always"},
        "upstreams": {"feat": stdio_upstream("feat")},
    }
    with gateway(config, workdir=tmp_path):
        pass
    whole = audit.read_bytes()
    torn = b'{"chain":"' + b"x" * 30  # what a kill during a write leaves at the end
    audit.write_bytes(whole + torn)

    with gateway(config, workdir=tmp_path) as gw, httpx.Client(timeout=30) as client:
        open_session(client, gw.url("feat"))

    records = [orjson.loads(line) for line in audit.read_bytes().splitlines()]
    recovery = next(r for r in records if r["event"] == "audit.recovered")
    saved = Path(recovery["details"]["torn_saved_to"])
    assert saved.read_bytes() == torn
    assert audit.read_bytes().startswith(whole)
    assert any(r["event"] == "session.start" and r["seq"] > recovery["seq"] for r in records)

    out = subprocess.run(
        [sys.executable, "-m", "mcpwarden", "audit", "verify", "--require-head", str(audit)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"recovered from a torn tail at seq {recovery['seq']}" in out.stdout
    assert str(saved) in out.stdout
