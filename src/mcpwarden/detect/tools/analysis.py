"""What the tool scanner computes about one tool definition, and the rule-only score.

Shared by the scanner (which fills it) and the learned model (which scores it), so neither
has to import the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mcpwarden.detect.findings import Finding


@dataclass(slots=True)
class ToolAnalysis:
    """Everything the scorer needs, computed once per tool."""

    findings: list[Finding] = field(default_factory=list)
    text: str = ""  # normalized text of all prose fields, for the learned model
    desc_len: int = 0
    n_params: int = 0
    foreign_refs: int = 0


def rule_score(findings: Iterable[Finding]) -> float:
    """Noisy-OR of the strongest hit per rule: independent evidence adds up, repeats do not."""
    best: dict[str, float] = {}
    for f in findings:
        w = f.score or 0.0
        if w > best.get(f.rule, 0.0):
            best[f.rule] = w
    remaining = 1.0
    for w in best.values():
        remaining *= 1.0 - w
    return 1.0 - remaining
