"""Audit under `serve --workers 2`: one hash chain per worker, verified as a set by
`mcpwarden audit verify`; a worker's chain that is missing, truncated or edited fails it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from gwtest.procs import PYTHON, stdio_upstream
from gwtest.workers import fresh_call, result_text, session_on, worker_gateway

pytestmark = pytest.mark.integration

UP = "feat"


@pytest.fixture(scope="module")
def chains(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Both workers' chains after a run that used both and then stopped (read-only: copy them)."""
    workdir = tmp_path_factory.mktemp("worker-audit")
    with worker_gateway({"upstreams": {UP: stdio_upstream(UP, timeout_s=30)}}, workdir=workdir) as gw:
        for index in (0, 1):
            sid = session_on(gw, gw.url(UP), index)
            assert result_text(fresh_call(gw.url(UP), sid, "echo", {"text": "a"})) == "feat: a"
    yield workdir


def _copy(chains: Path, to: Path) -> list[Path]:
    out = []
    for index in (0, 1):
        for path in chains.glob(f"audit.w{index}.jsonl*"):
            shutil.copy(path, to / path.name)
        out.append(to / f"audit.w{index}.jsonl")
    return out


def _verify(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "mcpwarden", "audit", "verify", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_each_worker_writes_its_own_chain_with_its_worker_id(chains: Path) -> None:
    for index in (0, 1):
        records = [
            orjson.loads(line) for line in (chains / f"audit.w{index}.jsonl").read_bytes().splitlines()
        ]
        assert {r["replica"] for r in records} == {records[0]["replica"]}
        assert records[0]["replica"].endswith(f"-w{index}")
        start = next(r for r in records if r["event"] == "gateway.start")
        assert (start["details"]["worker"], start["details"]["workers"]) == (index, 2)
    assert not (chains / "audit.jsonl").exists()


def test_the_set_of_worker_chains_verifies(chains: Path, tmp_path: Path) -> None:
    done = _verify(*_copy(chains, tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "set: ok, 2 chains" in done.stdout


def test_a_set_missing_one_workers_chain_fails(chains: Path, tmp_path: Path) -> None:
    w0, _ = _copy(chains, tmp_path)
    done = _verify(w0)
    assert done.returncode == 1, done.stdout
    assert "-w1 (of 2 workers) is missing from the set" in done.stdout


def test_a_truncated_worker_chain_fails_the_set(chains: Path, tmp_path: Path) -> None:
    w0, w1 = _copy(chains, tmp_path)
    lines = w1.read_bytes().splitlines(keepends=True)
    w1.write_bytes(b"".join(lines[:-2]))
    done = _verify(w0, w1)
    assert done.returncode == 1, done.stdout
    assert "set: FAILED" in done.stdout


def test_an_edited_worker_chain_fails_the_set(chains: Path, tmp_path: Path) -> None:
    w0, w1 = _copy(chains, tmp_path)
    lines = w1.read_bytes().splitlines(keepends=True)
    record = orjson.loads(lines[1])
    record["event"] = "session.end" if record["event"] != "session.end" else "session.start"
    lines[1] = orjson.dumps(record) + b"\n"
    w1.write_bytes(b"".join(lines))
    done = _verify(w0, w1)
    assert done.returncode == 1, done.stdout
    assert "set: FAILED" in done.stdout
