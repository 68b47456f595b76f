"""Signed checkpoints of several replicas that share one signing key, verified as a set.

Each replica signs checkpoints naming its replica id; `mcpwarden audit verify A B --key PUB`
checks every chain, the set, and each file's checkpoints, through the real CLI.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mcpwarden.audit import AuditLog
from mcpwarden.audit.chains import verify_set
from mcpwarden.audit.checkpoint import (
    Checkpointer,
    checkpoint_path,
    generate_keypair,
    load_private_key,
    load_public_key,
    read_checkpoints,
    verify_checkpoints,
)
from mcpwarden.audit.sinks.fanout import AuditFanout


def write_replica(path: Path, replica: str, key: Path, n: int = 7) -> Path:
    log = AuditLog(path, fsync="never", replica=replica)
    fanout = AuditFanout(log)
    signer = Checkpointer(log, load_private_key(key.read_text()), every=3)
    fanout.add_observer(signer.observe, on_close=signer.close)
    for i in range(n):
        fanout.write({"event": "request", "method": "tools/call", "request_id": i})
    fanout.close()
    return path


def verify_cli(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "mcpwarden", "audit", "verify", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


@dataclass(frozen=True)
class Pair:
    """Two replicas' audit files, signed with one shared key."""

    a: Path
    b: Path
    private: Path
    public: Path

    def public_key(self) -> Ed25519PublicKey:
        return load_public_key(self.public.read_bytes())


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    private, public = generate_keypair()
    (tmp_path / "ckpt.key").write_bytes(private)
    (tmp_path / "ckpt.pub").write_bytes(public)
    a = write_replica(tmp_path / "a.jsonl", "gw-a", tmp_path / "ckpt.key")
    b = write_replica(tmp_path / "b.jsonl", "gw-b", tmp_path / "ckpt.key")
    return Pair(a, b, tmp_path / "ckpt.key", tmp_path / "ckpt.pub")


def test_each_checkpoint_names_and_signs_its_replica(pair: Pair) -> None:
    checkpoints = read_checkpoints(pair.a)
    assert checkpoints and {cp["replica"] for cp in checkpoints} == {"gw-a"}
    assert verify_checkpoints(pair.a, pair.public_key()).ok


def test_a_checkpoint_whose_replica_was_edited_has_a_bad_signature(pair: Pair) -> None:
    lines = checkpoint_path(pair.a).read_bytes().splitlines()
    first = orjson.loads(lines[0])
    first["replica"] = "gw-b"
    checkpoint_path(pair.a).write_bytes(b"\n".join([orjson.dumps(first), *lines[1:]]) + b"\n")
    result = verify_checkpoints(pair.a, pair.public_key())
    assert not result.ok and "bad signature" in (result.reason or "")


def test_the_set_checks_every_replicas_checkpoints_with_the_shared_key(pair: Pair) -> None:
    result = verify_set([pair.a, pair.b], public=pair.public_key())
    assert result.ok, result.summary()
    assert [c.checkpoints for c in result.checkpoints] == [3, 3]  # seq 3, 6 and the closing 7


def test_cli_verifies_a_set_with_a_key_and_fails_when_one_replica_was_rewritten(pair: Pair) -> None:
    ok = verify_cli(str(pair.a), str(pair.b), "--key", str(pair.public))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.count("checkpoints: ok") == 2 and "set: ok, 2 chains" in ok.stdout
    # The other replica's checkpoints presented as b's: they vouch for another chain.
    checkpoint_path(pair.b).write_bytes(checkpoint_path(pair.a).read_bytes())
    bad = verify_cli(str(pair.a), str(pair.b), "--key", str(pair.public))
    assert bad.returncode == 1, bad.stdout
    assert f"{pair.b}: checkpoints: FAILED" in bad.stdout and "set: FAILED" in bad.stdout


def test_cli_refuses_a_set_verified_with_an_unreadable_key(pair: Pair, tmp_path: Path) -> None:
    done = verify_cli(str(pair.a), str(pair.b), "--key", str(tmp_path / "absent.pub"))
    assert done.returncode == 2 and "absent.pub" in done.stderr
