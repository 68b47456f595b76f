"""The pattern-set prefilter: the same hits and verdicts as running every pattern.

`PatternSet` lets rule and secret scans skip patterns that cannot match; these tests hold it
to the full scan (every pattern's `finditer`) on the committed corpora, row by row.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import re2

from mcpwarden.detect.text import Redactor, find_secrets, scan_text, secrets
from mcpwarden.detect.text._re import compile_re
from mcpwarden.detect.text.prefilter import PatternSet
from mcpwarden.detect.text.rules import match_rules

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bench"))

from secrets_corpus import benign, planted  # noqa: E402


def _injection_rows() -> list[str]:
    lines = (ROOT / "data" / "injection" / "generated.jsonl").read_bytes().splitlines()
    return [orjson.loads(line)["text"] for line in lines if line.strip()]


def _secret_texts() -> Iterator[str]:
    yield from (s.text for s in planted())
    yield from (s.text for s in benign(count=300))


def _verdicts(texts: list[str]) -> list[tuple[object, ...]]:
    out = []
    for text in texts:
        detection = scan_text(text)
        secrets = find_secrets(text)
        out.append(
            (
                detection.flagged,
                detection.score,
                [(f.rule, f.span) for f in detection.findings],
                [(f.rule, f.span) for f in secrets],
                Redactor().redact(text, secrets) if secrets else text,
            )
        )
    return out


def test_candidates_are_exactly_the_patterns_that_match() -> None:
    patterns = [compile_re(p) for p in ("abc", "x+y", "^start")] + [compile_re("HELLO", ignore_case=True)]
    found = PatternSet(patterns).candidates("say hello, abc")
    assert found == {0, 3}


def test_a_text_nothing_matches_has_no_candidates() -> None:
    assert (
        PatternSet([compile_re("abc"), compile_re("def", ignore_case=True)]).candidates("xyz") == frozenset()
    )


def test_a_failed_set_search_falls_back_to_every_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    patterns = [compile_re("abc"), compile_re("def")]
    pset = PatternSet(patterns)
    monkeypatch.setattr(re2.Set, "Match", lambda self, text: None)  # what RE2 returns when it gives up
    assert pset.candidates("abc") == {0, 1}


def test_rules_and_secrets_match_the_full_scan_on_the_secrets_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = list(_secret_texts())
    fast = [(match_rules(t), find_secrets(t)) for t in texts]
    monkeypatch.setattr(PatternSet, "candidates", lambda self, text: self._everything)
    full = [(match_rules(t), find_secrets(t)) for t in texts]
    assert fast == full
    assert sum(1 for _, s in fast if s) >= 12  # the corpus does exercise the secret detectors


def test_verdicts_and_redactions_match_the_full_scan_on_the_injection_corpus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = _injection_rows()
    fast = _verdicts(texts)
    monkeypatch.setattr(PatternSet, "candidates", lambda self, text: self._everything)
    full = _verdicts(texts)
    mismatched = [i for i, (a, b) in enumerate(zip(fast, full, strict=True)) if a != b]
    assert mismatched == []
    assert sum(1 for v in fast if v[0]) > 100  # flagged rows are there to compare
    assert sum(1 for v in fast if v[2]) > 100  # and rows with rule hits


def test_a_secret_search_of_ordinary_prose_ends_at_the_gate() -> None:
    prose = "The quarterly report lists revenue, costs and the forecast for the next period. " * 12
    assert secrets._matching(prose) is None
    assert find_secrets(prose) == []


def test_the_gate_names_only_the_patterns_that_match() -> None:
    found = secrets._matching("deploy notes: export DB_PASSWORD=Xk29fjq0Pz81 then restart")
    assert found is not None
    assert secrets._ASSIGN in found.scans
    assert secrets._XML not in found.scans and secrets._PERCENT not in found.scans
