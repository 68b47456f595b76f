"""The labelled secrets corpus (bench/secrets_corpus.py): reproducible, and fully detected."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

from secrets_corpus import benign, planted

from mcpwarden.detect.text import find_secrets


def test_the_corpus_is_the_same_for_the_same_seed() -> None:
    assert list(planted(seed=3, per_kind=2)) == list(planted(seed=3, per_kind=2))
    assert list(benign(seed=3, count=20)) == list(benign(seed=3, count=20))
    assert list(planted(seed=3, per_kind=2)) != list(planted(seed=4, per_kind=2))


def test_planted_secrets_cover_at_least_twelve_formats() -> None:
    assert len({Path(s.name).suffix for s in planted()}) >= 12


def test_every_planted_secret_is_found_on_its_lines() -> None:
    missed = []
    for sample in planted():
        first, last = sample.lines()
        lines = {sample.text.count("\n", 0, f.span[0]) + 1 for f in find_secrets(sample.text) if f.span}
        if not any(first <= n <= last for n in lines):
            missed.append(sample.name)
    assert missed == []


def test_generated_benign_files_have_no_findings() -> None:
    flagged = [s.name for s in benign(count=300) if find_secrets(s.text)]
    assert flagged == []
