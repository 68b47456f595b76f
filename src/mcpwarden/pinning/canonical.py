"""Canonical JSON (RFC 8785 JCS-like) and SHA-256 hashes of MCP definitions.

Why not `json.dumps(sort_keys=True)`: Python sorts keys by code point while JCS sorts by
UTF-16 code units, Python prints floats differently from ECMAScript, and it escapes
non-ASCII by default. A pin written by one implementation must verify in another, so the
rules are spelled out here and in docs/pinning.md.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any, Literal

Kind = Literal["tool", "prompt", "resource", "resource_template", "instructions"]
KINDS: tuple[Kind, ...] = ("tool", "prompt", "resource", "resource_template", "instructions")

# `_meta` is protocol bookkeeping (progress tokens, vendor hints) that servers may vary per
# response; it is not shown to the model, so it must not churn pins. Everything else a
# server sends is pinned, including fields this version does not know about.
EXCLUDED_FIELDS: frozenset[str] = frozenset({"_meta"})

_SHORT_ESCAPES = {
    0x08: "\\b",
    0x09: "\\t",
    0x0A: "\\n",
    0x0C: "\\f",
    0x0D: "\\r",
    0x22: '\\"',
    0x5C: "\\\\",
}


def pinned_fields(defn: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a definition that is pinned: all top-level fields except `_meta`."""
    return {k: v for k, v in defn.items() if k not in EXCLUDED_FIELDS}


def canonical_json(defn: Mapping[str, Any]) -> bytes:
    """UTF-8 bytes of the canonical form of `defn` (after dropping excluded fields)."""
    out: list[str] = []
    _write(pinned_fields(defn), out)
    return "".join(out).encode("utf-8", errors="surrogatepass")


def definition_hash(defn: Mapping[str, Any]) -> str:
    """Hex SHA-256 of `canonical_json(defn)`."""
    return hashlib.sha256(canonical_json(defn)).hexdigest()


def body_hash(defn: Mapping[str, Any]) -> str:
    """Hash of the definition without its `name`: equal body hashes under two names mean a rename."""
    rest = {k: v for k, v in defn.items() if k != "name"}
    return definition_hash(rest)


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", errors="surrogatepass")


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, Mapping):
        keys = sorted(value.keys(), key=lambda k: _utf16_key(_as_key(k)))
        out.append("{")
        for i, key in enumerate(keys):
            if i:
                out.append(",")
            out.append(_string(_as_key(key)))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot canonicalize value of type {type(value).__name__}")


def _as_key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"object keys must be strings, got {type(key).__name__}")
    return key


def _string(text: str) -> str:
    parts = ['"']
    for ch in text:
        cp = ord(ch)
        short = _SHORT_ESCAPES.get(cp)
        if short is not None:
            parts.append(short)
        elif cp < 0x20 or 0xD800 <= cp <= 0xDFFF:
            # Control characters per JCS; lone surrogates escaped so the output stays valid UTF-8.
            parts.append(f"\\u{cp:04x}")
        else:
            parts.append(ch)
    parts.append('"')
    return "".join(parts)


def _number(value: float) -> str:
    """ECMAScript Number-to-String for the values JSON can carry."""
    if not math.isfinite(value):
        raise ValueError("NaN and Infinity have no JSON form")
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exp = text.split("e")
        sign = "-" if exp.startswith("-") else "+"
        digits = exp.lstrip("+-").lstrip("0") or "0"
        if mantissa.endswith(".0"):
            mantissa = mantissa[:-2]
        return f"{mantissa}e{sign}{digits}"
    return text
