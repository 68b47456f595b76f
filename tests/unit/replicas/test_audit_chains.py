"""`verify_set`: several replicas' chains checked together."""

from __future__ import annotations

import shutil
from pathlib import Path

from mcpwarden.audit import AuditLog
from mcpwarden.audit.chains import verify_set


def write_chain(path: Path, replica: str | None, n: int = 3) -> Path:
    with AuditLog(path, fsync="never", replica=replica) as log:
        for i in range(n):
            log.write({"event": "request", "method": "tools/call", "request_id": i})
    return path


def test_every_record_carries_the_replica_id(tmp_path: Path) -> None:
    import orjson

    path = write_chain(tmp_path / "a.jsonl", "a")
    assert {orjson.loads(line)["replica"] for line in path.read_bytes().splitlines()} == {"a"}


def test_intact_chains_of_distinct_replicas_verify(tmp_path: Path) -> None:
    result = verify_set([write_chain(tmp_path / "a.jsonl", "a"), write_chain(tmp_path / "b.jsonl", "b")])
    assert result.ok, result.summary()
    assert set(result.replicas.values()) == {"a", "b"}


def test_a_chain_presented_twice_fails(tmp_path: Path) -> None:
    a = write_chain(tmp_path / "a.jsonl", "a")
    shutil.copy(a, tmp_path / "copy.jsonl")
    result = verify_set([a, tmp_path / "copy.jsonl"])
    assert not result.ok and any("same chain" in p for p in result.problems)


def test_two_files_claiming_one_replica_fail(tmp_path: Path) -> None:
    result = verify_set([write_chain(tmp_path / "a.jsonl", "a"), write_chain(tmp_path / "b.jsonl", "a")])
    assert not result.ok and any("both claim replica a" in p for p in result.problems)


def test_a_tampered_member_fails_the_set(tmp_path: Path) -> None:
    a = write_chain(tmp_path / "a.jsonl", "a")
    b = write_chain(tmp_path / "b.jsonl", "b")
    b.write_bytes(b.read_bytes().replace(b'"request_id":1', b'"request_id":9'))
    result = verify_set([a, b])
    assert not result.ok and "TAMPERED" in result.summary()
