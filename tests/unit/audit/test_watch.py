"""Without pin binding or checkpoints, a deleted or replaced audit file is still noticed: a new
file starts with an alert naming the lost chain, and observers and sinks see that alert."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from mcpwarden.audit import AuditLog, verify
from mcpwarden.audit.rotation import RotationPolicy
from mcpwarden.audit.segments import list_segments
from mcpwarden.audit.sinks.fanout import AuditFanout
from mcpwarden.audit.watch import AuditFileWatch

from .helpers import sample_event


def _first(path: Path) -> dict[str, Any]:
    return dict(orjson.loads(path.read_bytes().splitlines()[0]))


def test_nothing_happens_while_the_file_is_in_place(log_path: Path) -> None:
    with AuditLog(log_path, fsync="never") as log:
        log.write(sample_event(0))
        watch = AuditFileWatch(log)
        assert watch.check() is None
        assert log.seq == 1


def test_a_deleted_file_is_replaced_by_a_new_chain_that_names_the_lost_one(log_path: Path) -> None:
    log = AuditLog(log_path, fsync="never")
    seen: list[dict[str, Any]] = []
    fanout = AuditFanout(log, observers=[seen.append])
    old = fanout.write(sample_event(0))
    log_path.unlink()
    assert AuditFileWatch(log).check() == "deleted"
    fanout.write(sample_event(1))
    fanout.close()
    alert = _first(log_path)
    assert alert["reason"] == "audit.deleted"
    assert alert["chain"] != old["chain"]
    assert alert["details"]["previous_chain"] == old["chain"]
    assert alert["details"]["previous_hash"] == old["hash"]
    assert [r.get("reason") for r in seen][:2] == [None, "audit.deleted"]  # the observers saw it
    assert verify(log_path).ok


def test_a_file_put_in_its_place_is_moved_aside_not_continued(log_path: Path) -> None:
    log = AuditLog(log_path, fsync="never")
    log.write(sample_event(0))
    log_path.unlink()
    log_path.write_bytes(b"planted\n")
    assert AuditFileWatch(log).check() == "replaced"
    log.close()
    assert _first(log_path)["reason"] == "audit.replaced"
    aside = [p for p in log_path.parent.iterdir() if ".replaced-" in p.name and not p.name.endswith(".head")]
    assert any(p.read_bytes() == b"planted\n" for p in aside)


def test_after_a_rotation_the_lost_chains_segments_go_aside_with_it(log_path: Path) -> None:
    log = AuditLog(log_path, fsync="never", rotation=RotationPolicy(max_bytes=2000))
    for i in range(20):
        log.write(sample_event(i))
    assert list_segments(log_path)
    log_path.unlink()
    assert AuditFileWatch(log).check() == "deleted"
    log.write(sample_event(99))
    log.close()
    assert list_segments(log_path) == []
    assert verify(log_path).ok
    assert any(".replaced-" in p.name and "-0000" in p.name for p in log_path.parent.iterdir())
