"""Signed checkpoints: what makes a consistently rewritten chain detectable.

The hash chain alone has no secret: whoever can write the audit file can re-hash every
line and write a matching head anchor. A checkpoint is the chain id, `seq` and `hash` of
one record, signed with an Ed25519 key the gateway reads from a secret reference and that
the attacker is assumed not to have. The gateway appends one to `FILE.checkpoints` every
`every` records and at shutdown. `mcpwarden audit verify FILE --key PUB` checks each
checkpoint's signature and that the record at its `seq` still has its `hash`: a rewritten
record at or before the last checkpoint changes that hash (the chain carries any earlier
change forward), and cannot be re-signed without the private key.

The gateway also watches for the file being swapped under it:
- at start-up, an existing checkpoint file whose last checkpoint the audit file no longer
  contains (deleted, replaced, truncated) stops the gateway unless the config allows it;
- while running, a file that was deleted or replaced (its path no longer names the inode
  the gateway writes to) raises an `audit.file_replaced` alert.

Checkpoint line: `{"chain","seq","hash","time","key_id","sig"}`, plus `replica` when the
gateway has a replica id; `sig` is base64 of the Ed25519 signature over the canonical JSON of
the other fields (`replica` included when present); `key_id` is the first 16 hex characters
of SHA-256 of the raw public key. Several replicas may share one signing key: the signed
`replica` says which replica's chain a checkpoint vouches for, and must match the replica
named by the record at its `seq`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mcpwarden.audit.canonical import canonical_json
from mcpwarden.audit.jsonl import AuditLog, utc_timestamp
from mcpwarden.audit.segments import ROTATED_EVENT, chain_files, records_at

SIGNED_FIELDS = ("chain", "seq", "hash", "time", "key_id")
# Signed too when present (checkpoints of a gateway with a replica id).
OPTIONAL_SIGNED = ("replica",)
MAX_CHECKPOINT_LINE = 4096


class CheckpointError(Exception):
    """Checkpoints cannot be written, or the audit file does not match them."""


def checkpoint_path(log_path: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(log_path)}.checkpoints")


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_private_key(pem: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"the checkpoint key is not a PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError("the checkpoint key must be an Ed25519 key")
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError("the public key must be an Ed25519 key")
    return key


def generate_keypair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as (private PEM, public PEM)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def sign_checkpoint(
    key: Ed25519PrivateKey, chain: str, seq: int, digest: str, replica: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "chain": chain,
        "seq": seq,
        "hash": digest,
        "time": utc_timestamp(),
        "key_id": key_id(key.public_key()),
    }
    if replica is not None:
        body["replica"] = replica
    body["sig"] = base64.b64encode(key.sign(canonical_json(body))).decode()
    return body


def read_checkpoints(log_path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The checkpoint lines (unverified); [] when there is no checkpoint file."""
    path = checkpoint_path(log_path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    out = []
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line[:MAX_CHECKPOINT_LINE])
        except orjson.JSONDecodeError:
            raise CheckpointError(f"{path}: line {n} is not valid JSON") from None
        if not isinstance(item, dict):
            raise CheckpointError(f"{path}: line {n} is not an object")
        out.append(item)
    return out


def _record_hashes(
    log_path: str | os.PathLike[str], wanted: set[int]
) -> tuple[dict[int, tuple[Any, Any, Any]], int]:
    """(chain, hash, replica) of the records at the wanted seqs, over every rotated segment,
    and the last seq of the chain."""
    records, last = records_at(log_path, wanted)
    return {seq: (r.get("chain"), r.get("hash"), r.get("replica")) for seq, r in records.items()}, last


@dataclass(frozen=True, slots=True)
class CheckpointResult:
    ok: bool
    checkpoints: int
    last_seq: int | None = None
    reason: str | None = None

    def summary(self) -> str:
        if not self.ok:
            return f"checkpoints: FAILED: {self.reason}"
        return f"checkpoints: ok, {self.checkpoints} signed, the file is as written up to seq {self.last_seq}"


def verify_checkpoints(log_path: str | os.PathLike[str], public: Ed25519PublicKey | None) -> CheckpointResult:
    """Check every checkpoint's signature (when `public` is given) and the records they name."""
    try:
        checkpoints = read_checkpoints(log_path)
    except CheckpointError as exc:
        return CheckpointResult(False, 0, reason=str(exc))
    if not checkpoints:
        return CheckpointResult(False, 0, reason=f"no checkpoints in {checkpoint_path(log_path)}")
    expected_id = key_id(public) if public is not None else None
    for n, cp in enumerate(checkpoints, 1):
        if not all(k in cp for k in (*SIGNED_FIELDS, "sig")) or not isinstance(cp["seq"], int):
            return CheckpointResult(False, n - 1, reason=f"checkpoint {n} is incomplete")
        if public is not None:
            if cp["key_id"] != expected_id:
                return CheckpointResult(False, n - 1, reason=f"checkpoint {n} was signed by another key")
            try:
                public.verify(base64.b64decode(cp["sig"]), canonical_json(_signed_body(cp)))
            except (InvalidSignature, ValueError):
                return CheckpointResult(False, n - 1, reason=f"checkpoint {n} has a bad signature (forged)")
    found, lines = _record_hashes(log_path, {cp["seq"] for cp in checkpoints})
    for n, cp in enumerate(checkpoints, 1):
        seq = cp["seq"]
        if seq > lines:
            return CheckpointResult(
                False,
                n - 1,
                reason=f"checkpoint {n} names seq {seq} but the file has {lines} records (cut short)",
            )
        record = found.get(seq)
        if record is None or record[:2] != (cp["chain"], cp["hash"]):
            return CheckpointResult(
                False,
                n - 1,
                reason=f"the record at seq {seq} is not the one checkpoint {n} signed (rewritten)",
            )
        if "replica" in cp and record[2] != cp["replica"]:
            return CheckpointResult(
                False,
                n - 1,
                reason=f"checkpoint {n} was signed for replica {cp['replica']} but the record at seq "
                f"{seq} names replica {record[2]} (a checkpoint file of another replica)",
            )
    return CheckpointResult(True, len(checkpoints), last_seq=max(cp["seq"] for cp in checkpoints))


def _signed_body(cp: dict[str, Any]) -> dict[str, Any]:
    """The fields a checkpoint's signature covers."""
    return {k: cp[k] for k in (*SIGNED_FIELDS, *OPTIONAL_SIGNED) if k in cp}


def check_at_startup(log_path: str | os.PathLike[str]) -> None:
    """Refuse to continue a file that no longer holds its last checkpoint (deleted or replaced)."""
    checkpoints = read_checkpoints(log_path)
    if not checkpoints:
        return
    last = checkpoints[-1]
    seq = last.get("seq")
    if not isinstance(seq, int):
        raise CheckpointError(f"{checkpoint_path(log_path)}: the last checkpoint is incomplete")
    if not chain_files(log_path):
        raise CheckpointError(
            f"{log_path} is missing but {checkpoint_path(log_path)} records seq {seq}: "
            "the audit file was deleted"
        )
    found, lines = _record_hashes(log_path, {seq})
    if found.get(seq, (None, None, None))[:2] != (last.get("chain"), last.get("hash")):
        raise CheckpointError(
            f"{log_path} does not contain the record its last signed checkpoint names (seq {seq}; "
            f"the file has {lines}): it was replaced, truncated or rewritten"
        )


def startup_check(log_path: str | os.PathLike[str], on_loss: str) -> None:
    """`check_at_startup`, raising only under `refuse` (with `continue` the alert is the log's)."""
    try:
        check_at_startup(log_path)
    except CheckpointError:
        if on_loss == "refuse":
            raise
        import logging

        logging.getLogger("mcpwarden.audit").exception("audit file does not match its checkpoints")


class Checkpointer:
    """An audit observer that signs a checkpoint every `every` records and at close."""

    def __init__(
        self,
        log: AuditLog,
        key: Ed25519PrivateKey,
        *,
        every: int = 1000,
        alert: Callable[..., None] | None = None,
    ) -> None:
        if every < 1:
            raise ValueError("every must be at least 1")
        self.log = log
        self.key = key
        self.every = every
        self.alert = alert
        self.path = checkpoint_path(log.path)
        self._lock = threading.Lock()
        self._last_signed = 0
        self._last: tuple[int, str, str] | None = None
        self.lost: str | None = None
        # The log starts a new chain when it finds its file gone (`reopen_replaced`); a
        # change of this count is a loss too, even if someone else noticed it first.
        self._replacements = log.replacements

    def observe(self, record: dict[str, Any]) -> None:
        seq, chain, digest = record.get("seq"), record.get("chain"), record.get("hash")
        if not isinstance(seq, int) or not isinstance(chain, str) or not isinstance(digest, str):
            return
        self._last = (seq, chain, digest)
        # A rotation is signed at once, so every finished segment is covered by a checkpoint.
        if seq % self.every == 0 or record.get("event") == ROTATED_EVENT:
            self._sign(seq, chain, digest)
            self.check_file()

    def check_file(self) -> str | None:
        """A problem with the file on disk (deleted or replaced), alerted once."""
        if self.lost is not None:
            return self.lost
        problem = self.log.replaced()
        if problem is None and self.log.replacements != self._replacements:
            problem = "replaced"
        if problem is None:
            return None
        self.lost = problem
        if self.alert is not None:
            self.alert(
                "alert",
                guard="audit",
                decision="alert",
                reason="audit.file_replaced",
                message=f"the audit file {self.log.path} was {problem} while the gateway was writing it",
            )
        return problem

    def _sign(self, seq: int, chain: str, digest: str) -> None:
        with self._lock:
            if seq <= self._last_signed:
                return
            signed = sign_checkpoint(self.key, chain, seq, digest, replica=self.log.replica)
            line = orjson.dumps(signed) + b"\n"
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
            self._last_signed = seq

    def close(self) -> None:
        """The shutdown checkpoint, over everything written, after it is on disk."""
        self.log.flush()
        if self._last is not None:
            self._sign(*self._last)
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
