"""Secrets wrapped in base64 or URL-encoding, found by decoding within a fixed budget.

A Kubernetes Secret manifest, a `Basic` authorization header, a query string or a JSON
blob pasted into a log all carry credentials that no pattern sees until the wrapping is
taken off. Candidate runs are decoded and the decoded text is searched with the same
detectors (one level deep: a base64 run inside decoded base64 is not decoded again).
The work is bounded whatever the input: at most `MAX_RUNS` runs per text, each at most
`MAX_RUN` characters, and `MAX_DECODED` decoded characters in all.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from urllib.parse import unquote

from mcpwarden.detect.text._re import compile_re

MAX_RUNS = 64
MAX_RUN = 64 * 1024
MAX_DECODED = 256 * 1024
MIN_BASE64 = 24

BASE64_RUN = compile_re(r"[A-Za-z0-9+/_\-]{" + str(MIN_BASE64) + r",}={0,2}")
PERCENT_RUN = compile_re(r"[A-Za-z0-9%._~+\-/=:@!$&'*,;]*%[0-9A-Fa-f]{2}[A-Za-z0-9%._~+\-/=:@!$&'*,;]*")


def _printable(text: str) -> bool:
    if not text:
        return False
    good = sum(1 for c in text if c.isprintable() or c in "\r\n\t")
    return good / len(text) >= 0.95


def _b64(run: str) -> str | None:
    raw = run.rstrip("=")
    if len(raw) % 4 == 1:
        return None
    padded = raw + "=" * (-len(raw) % 4)
    try:
        data = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        text = data.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return text if _printable(text) else None


def decoded_runs(text: str) -> Iterator[tuple[tuple[int, int], str, str]]:
    """(span of the encoded run, decoded text, encoding name) for each decodable run."""
    budget = MAX_DECODED
    runs = 0
    candidates: list[tuple[int, int, str]] = []
    for m in BASE64_RUN.finditer(text):
        candidates.append((*m.span(), "base64"))
        if len(candidates) >= MAX_RUNS:
            break
    if "%" in text:
        for m in PERCENT_RUN.finditer(text):
            candidates.append((*m.span(), "url"))
            if len(candidates) >= 2 * MAX_RUNS:
                break
    for start, end, how in candidates:
        if runs >= MAX_RUNS or budget <= 0:
            return
        run = text[start:end]
        if len(run) > MAX_RUN:
            continue
        decoded = _b64(run) if how == "base64" else unquote(run)
        if decoded is None or decoded == run:
            continue
        runs += 1
        budget -= len(decoded)
        yield (start, end), decoded, how


def find_encoded(
    text: str, detect: Callable[[str], list[tuple[str, str]]]
) -> list[tuple[tuple[int, int], str, str]]:
    """(span of the encoded run, kind, encoding) for each run whose decoded text holds a secret.

    `detect` returns (kind, value) pairs for the decoded text; only the first kind per run
    is kept, since the whole run is what gets redacted.
    """
    out: list[tuple[tuple[int, int], str, str]] = []
    for span, decoded, how in decoded_runs(text):
        found = detect(decoded)
        if found:
            out.append((span, found[0][0], how))
    return out
