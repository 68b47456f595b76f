"""Replacing sensitive spans with stable placeholders.

The same value gets the same placeholder for the life of one `Redactor` (one response,
one tool call), so a model reading redacted output can still tell that two fields held
the same secret, without ever seeing it.
"""

from __future__ import annotations

from collections.abc import Iterable

from mcpwarden.detect.findings import Finding


def _kind_of(rule: str) -> str:
    return rule.split(".", 1)[1] if "." in rule else rule


class Redactor:
    """Numbers placeholders per kind in order of first appearance."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], int] = {}
        self._counts: dict[str, int] = {}

    def placeholder(self, kind: str, value: str) -> str:
        key = (kind, value)
        if key not in self._ids:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._ids[key] = self._counts[kind]
        return f"[REDACTED:{kind}:{self._ids[key]}]"

    @property
    def count(self) -> int:
        """How many distinct values were redacted so far."""
        return len(self._ids)

    def redact(self, text: str, findings: Iterable[Finding]) -> str:
        """Replace each finding's span; overlapping spans keep the first (leftmost, longest)."""
        spans = sorted(
            ((f.span[0], f.span[1], _kind_of(f.rule)) for f in findings if f.span is not None),
            key=lambda s: (s[0], -s[1]),
        )
        out: list[str] = []
        pos = 0
        for start, end, kind in spans:
            if start < pos or end <= start:
                continue
            out.append(text[pos:start])
            out.append(self.placeholder(kind, text[start:end]))
            pos = end
        out.append(text[pos:])
        return "".join(out)
