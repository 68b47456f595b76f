"""Canonical JSON: the one byte form that records are hashed and written in.

The hash chain only works if the writer and `verify` serialize a record to exactly the
same bytes. orjson with sorted keys gives a stable form for plain JSON values, so every
record is first reduced to plain JSON (str keys, lists, 64-bit ints, floats, strings,
booleans, null) and only then hashed; after that, parse → serialize is an exact round trip.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1


def _fallback(value: Any) -> Any:
    """Values orjson cannot encode (sets, bytes, arbitrary objects) are recorded by their text."""
    if isinstance(value, set | frozenset):
        return sorted(str(v) for v in value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def _shrink_big_ints(value: Any) -> Any:
    """Replace integers outside orjson's 64-bit range by their decimal text.

    Only reached after orjson refused a value, so the common path pays nothing for it.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if _INT64_MIN <= value <= _UINT64_MAX else str(value)
    if isinstance(value, dict):
        return {k: _shrink_big_ints(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_shrink_big_ints(v) for v in value]
    return value


def canonical_json(value: Any) -> bytes:
    """Serialize `value` with sorted keys and no whitespace.

    Never raises for odd Python values: the audit trail must not lose an event because a
    caller put a set or a 100-bit integer in its details.
    """
    try:
        return orjson.dumps(value, option=_OPTIONS, default=_fallback)
    except TypeError:
        return orjson.dumps(_shrink_big_ints(value), option=_OPTIONS, default=_fallback)


def to_plain_json(value: Any) -> Any:
    """Reduce `value` to the plain JSON values it will read back as from the file."""
    return orjson.loads(canonical_json(value))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def args_digest(arguments: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of a call's arguments.

    Lets an investigator confirm which arguments a call had (given a candidate) without
    the audit file holding secrets the arguments may carry.
    """
    return sha256_hex(canonical_json(arguments))
