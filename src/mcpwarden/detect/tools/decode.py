"""Encoded runs inside a tool definition (base64, hex, percent-encoding) decoded to readable text.

A poisoned description can hide its instruction in an encoding the model decodes on its own;
the scanner runs its rules again over what these runs decode to. Only decodings that look like
text (UTF-8, printable, mostly letters) are returned, so hashes and ids do not become findings.
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse

import re2

_B64 = re2.compile(r"[A-Za-z0-9+/_-]{24,}={0,2}")
_HEX = re2.compile(r"(?:\\x)?(?:[0-9a-fA-F]{2}(?:\\x)?){16,}")
_PCT = re2.compile(r"(?:%[0-9a-fA-F]{2}[^%\s]{0,3}){4,}")


def decode_candidates(raw: str) -> list[tuple[str, str]]:
    """Decoded (encoding, text) pairs for base64 / hex / percent runs that decode to readable text."""
    found: list[tuple[str, str]] = []
    for m in _B64.finditer(raw):
        token = m.group(0)
        if len(token) % 4 == 1:
            continue
        try:
            data = base64.b64decode(
                token + "=" * (-len(token) % 4), altchars=b"-_" if "-" in token or "_" in token else None
            )
        except (binascii.Error, ValueError):
            continue
        text = printable(data)
        if text:
            found.append(("base64", text))
    for m in _HEX.finditer(raw):
        token = m.group(0).replace("\\x", "")
        try:
            text = printable(bytes.fromhex(token))
        except ValueError:
            continue
        if text:
            found.append(("hex", text))
    for m in _PCT.finditer(raw):
        decoded = urllib.parse.unquote(m.group(0))
        if decoded != m.group(0):
            found.append(("url-encoding", decoded))
    return found


def printable(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(text) < 8:
        return None
    good = sum(1 for c in text if c.isprintable() or c in "\n\t")
    if good / len(text) < 0.95 or sum(c.isalpha() for c in text) / len(text) < 0.5:
        return None
    return text
