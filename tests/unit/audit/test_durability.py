"""fsync policies and concurrent writers."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import orjson
import pytest

from mcpwarden.audit import AuditLog, FsyncPolicy, read_head, verify

from .helpers import sample_event


class FsyncCounter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = os.fsync

        def counting(fd: int) -> None:
            self.calls += 1
            real(fd)

        monkeypatch.setattr(os, "fsync", counting)


@pytest.mark.parametrize("policy", ["always", "interval", "never"])
def test_every_fsync_policy_writes_a_log_that_verifies(log_path: Path, policy: FsyncPolicy) -> None:
    with AuditLog(log_path, fsync=policy) as log:
        for i in range(20):
            log.write(sample_event(i))
    result = verify(log_path, require_head=True)
    assert result.ok
    assert result.records == 20


def test_always_policy_fsyncs_and_anchors_before_write_returns(
    log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = FsyncCounter(monkeypatch)
    with AuditLog(log_path, fsync="always") as log:
        record = log.write(sample_event(0))
        assert counter.calls >= 1
        anchor = read_head(log_path)
        assert anchor is not None and (anchor.seq, anchor.hash) == (1, record["hash"])


def test_never_policy_does_not_fsync_until_close(log_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = FsyncCounter(monkeypatch)
    log = AuditLog(log_path, fsync="never")
    for i in range(5):
        log.write(sample_event(i))
    assert counter.calls == 0
    log.close()
    assert counter.calls >= 1


def test_interval_policy_anchors_from_the_background(log_path: Path) -> None:
    with AuditLog(log_path, fsync="interval", fsync_interval_s=0.01) as log:
        for i in range(5):
            last = log.write(sample_event(i))
        deadline = time.monotonic() + 30
        anchor = read_head(log_path)
        while (anchor is None or anchor.seq < 5) and time.monotonic() < deadline:
            time.sleep(0.01)
            anchor = read_head(log_path)
        assert anchor is not None and anchor.hash == last["hash"]


def test_written_records_reach_the_file_before_any_fsync(log_path: Path) -> None:
    with AuditLog(log_path, fsync="never") as log:
        log.write(sample_event(0))
        # Another reader sees the line at once: a crash of this process would not lose it.
        assert orjson.loads(log_path.read_bytes())["seq"] == 1


@pytest.mark.parametrize("policy", ["always", "interval"])
def test_concurrent_threads_keep_the_chain_valid(log_path: Path, policy: FsyncPolicy) -> None:
    threads_n, per_thread = 8, 100
    with AuditLog(log_path, fsync=policy) as log:
        start = threading.Barrier(threads_n)

        def work(t: int) -> None:
            start.wait()
            for i in range(per_thread):
                log.write(sample_event(t * per_thread + i))

        threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    result = verify(log_path, require_head=True)
    assert result.ok, result.summary()
    assert result.records == threads_n * per_thread


def test_concurrent_coroutines_keep_the_chain_valid(log_path: Path) -> None:
    async def main() -> None:
        with AuditLog(log_path, fsync="always") as log:
            await asyncio.gather(*(log.awrite(sample_event(i)) for i in range(50)))

    asyncio.run(main())
    result = verify(log_path)
    assert result.ok
    assert result.records == 50
