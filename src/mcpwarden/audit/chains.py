"""Verify the audit chains of several gateway replicas as one set.

Each replica writes its own hash chain (one file, one chain id, its replica id on every
record); there is no cross-replica ordering to check, but a set has failure modes a
single file does not: the same chain presented twice (a copy standing in for a lost or
tampered file), or one file whose records name two replicas (files spliced together).
`verify_set` checks every file with `verify` and then those set-level properties; given
the public key the replicas sign with, also each file's signed checkpoints, whose signed
replica id must be the one the file's records name.

Workers of one `serve --workers N` gateway are replicas named `<base>-w<i>` whose
`gateway.start` records say `worker` and `workers`: a set holding any of them must hold all
N (`<base>-w0` to `<base>-w<N-1>`), so a worker's chain that is missing from the set fails it
(a truncated or edited one fails its own chain's check).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson

from mcpwarden.audit.segments import iter_lines
from mcpwarden.audit.verify import VerifyResult, verify

_WORKER_ID = re.compile(r"^.+-w[0-9]{1,3}$")

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from mcpwarden.audit.checkpoint import CheckpointResult


@dataclass(frozen=True, slots=True)
class SetResult:
    results: list[VerifyResult]
    replicas: dict[str, str | None] = field(default_factory=dict)  # path -> replica id
    problems: list[str] = field(default_factory=list)
    checkpoints: list[CheckpointResult] = field(default_factory=list)  # with a key: one per file

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.results) and all(c.ok for c in self.checkpoints)

    def summary(self) -> str:
        lines = [r.summary() for r in self.results]
        lines += [f"{r.path}: {c.summary()}" for r, c in zip(self.results, self.checkpoints, strict=False)]
        lines += [f"set: {p}" for p in self.problems]
        total = sum(r.records for r in self.results)
        verdict = "ok" if self.ok else "FAILED"
        lines.append(f"set: {verdict}, {len(self.results)} chains, {total} records")
        return "\n".join(lines)


def _replicas_in(path: str | os.PathLike[str]) -> tuple[set[str | None], int]:
    """The replica ids a file's records name, and the most workers its `gateway.start` declared."""
    found: set[str | None] = set()
    workers = 0
    for _, raw in iter_lines(path):
        if not raw.strip():
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue  # `verify` reports the line itself
        if isinstance(record, dict):
            found.add(record.get("replica"))
            details = record.get("details")
            if record.get("event") == "gateway.start" and isinstance(details, dict):
                count = details.get("workers")
                workers = max(workers, count if isinstance(count, int) else 0)
    return found, workers


def missing_workers(replicas: dict[str, str | None], workers: dict[str, int]) -> list[str]:
    """Problems for worker chains absent from the set: `workers` maps a file to the worker
    count its gateway declared; its replica id `<base>-w<i>` names the group."""
    expected: dict[str, int] = {}
    for name, replica in replicas.items():
        count = workers.get(name, 0)
        if replica is None or count < 2 or not _WORKER_ID.match(replica):
            continue
        base = replica.rpartition("-w")[0]
        expected[base] = max(expected.get(base, 0), count)
    present = {r for r in replicas.values() if r is not None}
    return [
        f"the chain of worker {base}-w{i} (of {count} workers) is missing from the set"
        for base, count in sorted(expected.items())
        for i in range(count)
        if f"{base}-w{i}" not in present
    ]


def declares_workers(path: str | os.PathLike[str]) -> bool:
    """True when the file is one worker's chain of several (verify it as a set)."""
    return _replicas_in(path)[1] > 1


def verify_set(
    paths: Sequence[str | os.PathLike[str]],
    *,
    require_head: bool = False,
    public: Ed25519PublicKey | None = None,
) -> SetResult:
    results = [verify(p, require_head=require_head) for p in paths]
    problems: list[str] = []
    owners: dict[str, str] = {}
    replicas: dict[str, str | None] = {}
    workers: dict[str, int] = {}
    for path, result in zip(paths, results, strict=True):
        name = str(path)
        if result.chain is not None:
            if result.chain in owners:
                problems.append(f"{name} and {owners[result.chain]} hold the same chain {result.chain}")
            owners.setdefault(result.chain, name)
        found, workers[name] = _replicas_in(path)
        if len(found) > 1:
            shown = ", ".join(sorted(str(r) for r in found))
            problems.append(f"{name}: records of several replicas in one chain ({shown})")
        replicas[name] = next(iter(found)) if len(found) == 1 else None
    seen: dict[str, str] = {}
    for name, replica in replicas.items():
        if replica is not None:
            if replica in seen:
                problems.append(f"{name} and {seen[replica]} both claim replica {replica}")
            seen.setdefault(replica, name)
    problems += missing_workers(replicas, workers)
    signed: list[CheckpointResult] = []
    if public is not None:
        from mcpwarden.audit.checkpoint import verify_checkpoints

        signed = [verify_checkpoints(p, public) for p in paths]
    return SetResult(results, replicas, problems, signed)
