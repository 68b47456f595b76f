"""The hash chain: how a record is sealed, and how a sealed record is checked.

Each record carries `chain` (a random id fixed for the file), `seq` (its 1-based line
number), `prev` (the `hash` of the line before it, or the chain's genesis value on line 1)
and `hash`, the SHA-256 of the canonical JSON of the record without `hash`. Editing a
record breaks its `hash`; removing, inserting or moving a line breaks `seq` and `prev`
on the line where the order changes.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, Final

from mcpwarden.audit.canonical import canonical_json, sha256_hex

GENESIS_PREFIX: Final = b"mcpwarden-audit-v1:"


def new_chain_id() -> str:
    """128 random bits: a forger cannot make another file's records fit this one's chain."""
    return secrets.token_hex(16)


def genesis(chain: str) -> str:
    """The `prev` of line 1: derived from the chain id so line 1 cannot be swapped in from elsewhere."""
    return sha256_hex(GENESIS_PREFIX + chain.encode("utf-8"))


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of `record` without its `hash` field."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return sha256_hex(canonical_json(body))


def seal(record: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """Add `hash` to a plain-JSON record; return it and its line (with the newline).

    The record is serialized once, in two halves split where `hash` sorts among its keys:
    the fields before it (always `chain`) and after it (always `prev` and `seq`). Joined,
    the halves are exactly the canonical JSON `record_hash` covers, so the hash is fed
    from them as they are, and the line is the same halves with `hash` set between.
    """
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, value in record.items():
        if key < "hash":
            before[key] = value
        elif key > "hash":
            after[key] = value
    if not before or not after:  # not a chained record: the plain way
        record["hash"] = record_hash(record)
        return record, canonical_json(record) + b"\n"
    head = memoryview(canonical_json(before))[:-1]  # without its closing brace
    tail = memoryview(canonical_json(after))[1:]  # without its opening brace
    digest = hashlib.sha256(head)
    digest.update(b",")
    digest.update(tail)
    record["hash"] = value = digest.hexdigest()
    return record, b"".join((head, b',"hash":"', value.encode(), b'",', tail, b"\n"))
