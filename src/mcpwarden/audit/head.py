"""The head anchor: a sidecar `FILE.head` naming the last durable record.

A hash chain alone cannot tell a log whose last lines were cut off from a log that simply
ended there. The writer therefore records the chain id, `seq` and `hash` of the newest
durable record in `FILE.head` each time it syncs; `verify` checks the log still contains
that record. The anchor lags the log (it is written after the fsync that covers it), so a
log may legitimately extend past it, never fall short of it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from mcpwarden.audit.canonical import canonical_json


class HeadError(ValueError):
    """The head anchor exists but cannot be read as one: it was damaged or edited."""


@dataclass(frozen=True, slots=True)
class HeadAnchor:
    chain: str
    seq: int
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {"chain": self.chain, "seq": self.seq, "hash": self.hash}


def head_path(log_path: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(log_path)}.head")


def read_head(log_path: str | os.PathLike[str]) -> HeadAnchor | None:
    """The anchor next to `log_path`, or None when there is none."""
    path = head_path(log_path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise HeadError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise HeadError(f"{path} is not a JSON object")
    chain, seq, digest = obj.get("chain"), obj.get("seq"), obj.get("hash")
    if not isinstance(chain, str) or not isinstance(digest, str):
        raise HeadError(f"{path} lacks a string chain or hash")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise HeadError(f"{path} has no positive integer seq")
    return HeadAnchor(chain, seq, digest)


def write_head(log_path: str | os.PathLike[str], anchor: HeadAnchor, *, durable: bool) -> None:
    """Replace the anchor atomically (write a temporary file, then rename over the old one).

    With `durable`, the temporary file is fsynced before the rename, so after a power
    loss the anchor is either the old one or the new one, never empty.
    """
    path = head_path(log_path)
    tmp = path.with_name(f"{path.name}.tmp")
    data = canonical_json(anchor.to_dict()) + b"\n"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    try:
        os.write(fd, data)
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
