"""A worker's identity under `serve --workers N`: session tags, audit file, ports, replica id."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpwarden.config import GatewayConfig
from mcpwarden.workers.identity import (
    WorkerSlot,
    owner_of,
    shift_port,
    worker_audit_path,
    worker_replica_id,
)


def test_owner_is_read_from_the_session_id_suffix() -> None:
    assert owner_of("abc.w0") == 0
    assert owner_of("abc.w12") == 12
    assert owner_of("abc") is None
    assert owner_of("abc.w") is None
    assert owner_of("abc.wx1") is None


def test_each_worker_audits_to_its_own_file_beside_the_configured_one() -> None:
    assert worker_audit_path("/var/log/audit.jsonl", 1) == Path("/var/log/audit.w1.jsonl")
    assert worker_audit_path("audit", 0) == Path("audit.w0")


def test_ports_shift_by_the_worker_index_and_zero_stays_zero() -> None:
    assert shift_port("127.0.0.1:9464", 2) == "127.0.0.1:9466"
    assert shift_port("[::1]:9464", 1) == "[::1]:9465"
    assert shift_port("127.0.0.1:0", 3) == "127.0.0.1:0"


def test_replica_id_is_stable_across_restarts_of_a_worker() -> None:
    assert worker_replica_id("gw", 1) == "gw-w1"
    assert worker_replica_id(None, 0) == worker_replica_id(None, 0)
    assert worker_replica_id(None, 0).endswith("-w0")


def test_slot_round_trips_through_the_environment_and_applies_to_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slot = WorkerSlot(1, 2, 7, 8, tmp_path)
    monkeypatch.setenv("MCPWARDEN_WORKER", slot.encode())
    assert WorkerSlot.from_env() == slot
    config = GatewayConfig.model_validate(
        {
            "audit": {"path": str(tmp_path / "audit.jsonl")},
            "metrics": {"listen": "127.0.0.1:9464"},
            "replica": {"id": "edge"},
        }
    )
    slot.apply(config)
    assert config.replica.id == "edge-w1"
    assert config.audit.path == str(tmp_path / "audit.w1.jsonl")
    assert config.metrics is not None and config.metrics.listen == "127.0.0.1:9465"
    assert slot.socket_path(0) == tmp_path / "w0.sock"
