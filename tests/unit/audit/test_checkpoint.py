"""Signed checkpoints: a consistently rewritten chain, a forged checkpoint, a deleted or
replaced audit file are all caught; an intact file verifies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from mcpwarden.audit import AuditLog, verify
from mcpwarden.audit.chain import genesis, seal
from mcpwarden.audit.checkpoint import (
    Checkpointer,
    CheckpointError,
    check_at_startup,
    checkpoint_path,
    generate_keypair,
    load_private_key,
    load_public_key,
    read_checkpoints,
    verify_checkpoints,
)
from mcpwarden.audit.head import HeadAnchor, write_head
from mcpwarden.audit.sinks.fanout import AuditFanout
from mcpwarden.config import parse_config
from mcpwarden.gateway.core import GatewayCore


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private, public = generate_keypair()
    priv = tmp_path / "ckpt.key"
    priv.write_bytes(private)
    pub = tmp_path / "ckpt.pub"
    pub.write_bytes(public)
    return priv, pub


def _write(log_path: Path, priv: Path, n: int, every: int = 10) -> None:
    log = AuditLog(log_path, fsync="never")
    fanout = AuditFanout(log)
    cp = Checkpointer(log, load_private_key(priv.read_text()), every=every)
    fanout.add_observer(cp.observe, on_close=cp.close)
    for i in range(n):
        fanout.write({"event": "request", "principal": "alice", "tool": "read", "details": {"i": i}})
    fanout.close()


def _rewrite_consistently(log_path: Path, edit: Any) -> None:
    """What an attacker with write access does: edit, then re-hash every line and the anchor."""
    records = [orjson.loads(line) for line in log_path.read_bytes().splitlines()]
    prev = genesis(records[0]["chain"])
    out = b""
    for record in records:
        record.pop("hash")
        edit(record)
        record["prev"] = prev
        record, line = seal(record)
        prev = record["hash"]
        out += line
    log_path.write_bytes(out)
    last = records[-1]
    write_head(log_path, HeadAnchor(last["chain"], last["seq"], last["hash"]), durable=False)


def test_checkpoints_are_signed_every_n_records_and_at_close(log_path: Path, keys: tuple[Path, Path]) -> None:
    priv, pub = keys
    _write(log_path, priv, 25, every=10)
    assert [cp["seq"] for cp in read_checkpoints(log_path)] == [10, 20, 25]
    result = verify_checkpoints(log_path, load_public_key(pub.read_bytes()))
    assert result.ok and result.last_seq == 25


def test_consistent_rewrite_of_the_chain_passes_the_chain_check_but_not_the_checkpoints(
    log_path: Path, keys: tuple[Path, Path]
) -> None:
    priv, pub = keys
    _write(log_path, priv, 25, every=10)

    def hide(record: dict[str, Any]) -> None:
        if record["seq"] == 3:
            record["principal"] = "mallory"

    _rewrite_consistently(log_path, hide)
    assert verify(log_path).ok  # the chain alone cannot tell
    result = verify_checkpoints(log_path, load_public_key(pub.read_bytes()))
    assert not result.ok
    assert "seq 10" in (result.reason or "") and "rewritten" in (result.reason or "")


def test_forged_checkpoint_with_another_key_is_caught(
    log_path: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    priv, pub = keys
    _write(log_path, priv, 12, every=10)
    other, _ = generate_keypair()
    other_key = tmp_path / "other.key"
    other_key.write_bytes(other)
    _rewrite_consistently(log_path, lambda r: r.update(tool="exfil") if r["seq"] == 1 else None)
    checkpoint_path(log_path).unlink()
    _write_checkpoints_for(log_path, other_key)
    result = verify_checkpoints(log_path, load_public_key(pub.read_bytes()))
    assert not result.ok and "another key" in (result.reason or "")


def _write_checkpoints_for(log_path: Path, priv: Path) -> None:
    from mcpwarden.audit.checkpoint import sign_checkpoint

    key = load_private_key(priv.read_text())
    last = orjson.loads(log_path.read_bytes().splitlines()[-1])
    line = orjson.dumps(sign_checkpoint(key, last["chain"], last["seq"], last["hash"])) + b"\n"
    checkpoint_path(log_path).write_bytes(line)


def test_edited_signature_is_caught(log_path: Path, keys: tuple[Path, Path]) -> None:
    priv, pub = keys
    _write(log_path, priv, 10, every=10)
    cps = read_checkpoints(log_path)
    cps[0]["seq"] = 5
    checkpoint_path(log_path).write_bytes(b"".join(orjson.dumps(c) + b"\n" for c in cps))
    result = verify_checkpoints(log_path, load_public_key(pub.read_bytes()))
    assert not result.ok and "bad signature" in (result.reason or "")


def test_truncated_file_is_caught(log_path: Path, keys: tuple[Path, Path]) -> None:
    priv, pub = keys
    _write(log_path, priv, 20, every=10)
    lines = log_path.read_bytes().splitlines(keepends=True)
    log_path.write_bytes(b"".join(lines[:15]))
    result = verify_checkpoints(log_path, load_public_key(pub.read_bytes()))
    assert not result.ok and "cut short" in (result.reason or "")


def test_start_up_refuses_a_deleted_audit_file(log_path: Path, keys: tuple[Path, Path]) -> None:
    priv, _ = keys
    _write(log_path, priv, 10, every=5)
    log_path.unlink()
    Path(f"{log_path}.head").unlink()
    with pytest.raises(CheckpointError, match="deleted"):
        check_at_startup(log_path)


def _config(log_path: Path, priv: Path, tmp_path: Path, on_loss: str = "refuse") -> Any:
    return parse_config(
        {
            "audit": {
                "path": str(log_path),
                "fsync": "never",
                "checkpoint": {"key": f"file:{priv}", "every": 5, "on_audit_loss": on_loss},
            },
            "store": {"path": str(tmp_path / "store.sqlite3")},
        }
    )


def test_gateway_refuses_to_start_on_a_replaced_audit_file(
    log_path: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    priv, _ = keys
    _write(log_path, priv, 10, every=5)
    log_path.unlink()
    Path(f"{log_path}.head").unlink()
    AuditLog(log_path, fsync="never").close()  # a fresh, empty chain in its place
    with pytest.raises(CheckpointError, match="replaced"):
        GatewayCore.from_config(_config(log_path, priv, tmp_path), guards=[])
    core = GatewayCore.from_config(_config(log_path, priv, tmp_path, "continue"), guards=[])
    assert core.audit is not None
    core.audit.close()  # type: ignore[attr-defined]


def test_audit_file_deleted_while_running_alerts_and_refuses_requests(
    log_path: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    from mcpwarden.types import Denied, Principal

    priv, _ = keys
    core = GatewayCore.from_config(_config(log_path, priv, tmp_path), guards=[])
    assert core.checkpointer is not None
    core.audit_event("gateway.start")
    log_path.unlink()
    assert core.checkpointer.check_file() == "deleted"
    with pytest.raises(Denied) as info:
        core.admission.check_request("sid", Principal("alice"), charge_principal=False, ctx={})
    assert info.value.decision.reason == "audit.unavailable"
    core.audit.close()  # type: ignore[union-attr]


def test_cli_verify_with_key_exits_0_when_intact_and_1_when_rewritten(
    log_path: Path, keys: tuple[Path, Path]
) -> None:
    priv, pub = keys
    _write(log_path, priv, 12, every=5)
    cmd = [sys.executable, "-m", "mcpwarden", "audit", "verify", str(log_path), "--key", str(pub)]
    ok = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "checkpoints: ok" in ok.stdout
    _rewrite_consistently(log_path, lambda r: r.update(decision="allow"))
    bad = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 1
    assert "checkpoints: FAILED" in bad.stdout
