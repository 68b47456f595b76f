"""Writing a small audit log, and tampering with it the way an attacker would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from mcpwarden.audit import AuditEvent, AuditLog
from mcpwarden.audit.chain import record_hash


def sample_event(i: int) -> AuditEvent:
    return AuditEvent(
        event="request",
        session=f"s{i % 3}",
        principal="anonymous",
        upstream="files",
        method="tools/call",
        tool="read_file",
        arguments={"path": f"/tmp/{i}.txt"},
        latency_ms=0.25 * i,
    )


def write_log(path: Path, n: int) -> list[bytes]:
    """Write n records and close cleanly, so the head anchor names the last one."""
    with AuditLog(path, fsync="never") as log:
        for i in range(n):
            log.write(sample_event(i))
    return path.read_bytes().splitlines(keepends=True)


def reseal(record: dict[str, Any]) -> bytes:
    """What a forger who knows the format does: recompute the hash after a change."""
    record["hash"] = record_hash(record)
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS) + b"\n"


def rewrite(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(lines))
