"""The result types every detector returns, so callers never special-case a detector."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Severity(IntEnum):
    """Ordered so that thresholds such as `--fail-on high` are plain comparisons."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r}; expected one of {choices}") from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason a detector gave for its score.

    `path` locates the finding inside a structured object (a JSON path such as
    `$.inputSchema.properties.q.description`); `span` locates it in the original text
    as (start, end) character offsets, before normalization.
    """

    rule: str
    severity: Severity
    message: str
    path: str | None = None
    span: tuple[int, int] | None = None
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "severity": str(self.severity), "message": self.message}
        if self.path is not None:
            out["path"] = self.path
        if self.span is not None:
            out["span"] = list(self.span)
        if self.score is not None:
            out["score"] = round(self.score, 4)
        return out


@dataclass(slots=True)
class Detection:
    """A detector's verdict: a score in [0, 1], whether it crossed the threshold, and why."""

    score: float
    flagged: bool
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "flagged": self.flagged,
            "findings": [f.to_dict() for f in self.findings],
        }
