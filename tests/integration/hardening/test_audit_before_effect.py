"""Issue 11, item 11: the request record is written before the call is forwarded, so a
gateway killed with SIGKILL under load leaves a record for every call an upstream saw."""

from __future__ import annotations

from pathlib import Path

import pytest

from gwtest.attack import Load, audit_records, kill9
from gwtest.procs import FIXTURES, gateway, http_server, http_upstream

pytestmark = pytest.mark.integration

LEDGER_SERVER = FIXTURES / "ledger_server.py"


def test_every_call_the_upstream_saw_has_a_request_record_after_kill_9(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.txt"
    with http_server(LEDGER_SERVER, "--ledger", str(ledger)) as (url, _):
        config = {
            "audit": {
                "path": str(tmp_path / "audit.jsonl"),
                "fsync": "interval",
                "include_raw_arguments": True,
            },
            "upstreams": {"ledger": http_upstream(url, pinning="off")},
        }
        with gateway(config, workdir=tmp_path) as gw:
            load = Load(gw.url("ledger"), "note", lambda n, i: {"marker": f"c{n}-{i}"}, clients=8)
            load.start()
            try:
                load.wait_for(150)
                kill9(gw)  # mid-load: calls are in flight towards the upstream right now
            finally:
                load.stop()
            records = audit_records(gw.audit_path)
    seen = set(ledger.read_text().split())
    assert len(seen) >= 150
    recorded = {
        r["arguments"]["marker"]
        for r in records
        if r["event"] == "request.start" and isinstance(r.get("arguments"), dict)
    }
    assert seen - recorded == set()


def test_request_start_record_precedes_the_outcome_record_and_shares_its_request_id(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.txt"
    with http_server(LEDGER_SERVER, "--ledger", str(ledger)) as (url, _):
        config = {"upstreams": {"ledger": http_upstream(url, pinning="off")}}
        with gateway(config, workdir=tmp_path) as gw:
            load = Load(gw.url("ledger"), "note", lambda n, i: {"marker": f"m{n}-{i}"}, clients=1)
            load.start()
            load.wait_for(3)
            load.stop()
            records = audit_records(gw.audit_path)
    calls = [r for r in records if r.get("method") == "tools/call"]
    starts = [r for r in calls if r["event"] == "request.start"]
    outcomes = [r for r in calls if r["event"] == "request"]
    assert len(starts) >= 3 and len(outcomes) >= 3
    first_start, first_outcome = starts[0], outcomes[0]
    assert first_start["seq"] < first_outcome["seq"]
    assert first_start["request_id"] == first_outcome["request_id"]
    assert first_start["args_sha256"] == first_outcome["args_sha256"]
    assert first_start["tool"] == "note"
