"""`verify_set` with the chains of `serve --workers N`: every worker's chain must be there."""

from __future__ import annotations

from pathlib import Path

from mcpwarden.audit import AuditLog
from mcpwarden.audit.chains import declares_workers, verify_set


def worker_chain(directory: Path, base: str, index: int, workers: int) -> Path:
    path = directory / f"audit.w{index}.jsonl"
    with AuditLog(path, fsync="never", replica=f"{base}-w{index}") as log:
        details = {"upstreams": ["feat"], "worker": index, "workers": workers}
        log.write({"event": "gateway.start", "details": details})
        log.write({"event": "request", "method": "tools/call", "request_id": 1})
    return path


def test_all_workers_chains_verify_as_a_set(tmp_path: Path) -> None:
    result = verify_set([worker_chain(tmp_path, "gw", i, 3) for i in range(3)])
    assert result.ok, result.summary()


def test_a_missing_workers_chain_fails_the_set(tmp_path: Path) -> None:
    result = verify_set([worker_chain(tmp_path, "gw", 0, 3), worker_chain(tmp_path, "gw", 2, 3)])
    assert not result.ok
    assert result.problems == ["the chain of worker gw-w1 (of 3 workers) is missing from the set"]


def test_one_workers_chain_declares_that_it_belongs_to_a_set(tmp_path: Path) -> None:
    assert declares_workers(worker_chain(tmp_path, "gw", 0, 2))


def test_a_single_process_gateways_chain_is_not_a_worker_set(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with AuditLog(path, fsync="never", replica="host-123") as log:
        log.write({"event": "gateway.start", "details": {"upstreams": ["feat"]}})
    assert not declares_workers(path)
    assert verify_set([path]).ok
