"""No length bias: joining benign documents that each pass does not make a false alarm, while an
attack padded among them is still caught. Counts over committed examples, never timings."""

from __future__ import annotations

import json
import random
from functools import lru_cache
from pathlib import Path

from mcpwarden.detect.text import scan_text
from mcpwarden.detect.text.model import default_model

DATA = Path(__file__).resolve().parents[3] / "data" / "injection" / "generated.jsonl"
CARRIERS = ("email", "chat", "ticket", "log", "api_json", "table")
JOIN_SIZES = (1, 2, 4, 8, 16)


@lru_cache(maxsize=1)
def _rows() -> list[dict[str, object]]:
    return [json.loads(line) for line in DATA.read_text("utf-8").split("\n") if line]


@lru_cache(maxsize=1)
def _passing_benign() -> list[str]:
    """Committed benign tool-output documents of six carriers (every sixth) that pass alone."""
    texts = [str(r["text"]) for r in _rows() if not r["label"] and r["carrier"] in CARRIERS][::6]
    return [t for t in texts if not scan_text(t).flagged]


def test_the_committed_benign_sample_is_large_and_passes() -> None:
    assert len(_passing_benign()) >= 100


def test_joins_of_passing_benign_documents_are_never_flagged() -> None:
    rng = random.Random(10)
    flagged = {
        k: sum(scan_text("\n\n".join(rng.sample(_passing_benign(), k))).flagged for _ in range(8))
        for k in JOIN_SIZES
    }
    assert flagged == dict.fromkeys(JOIN_SIZES, 0)


def test_hundred_kilobytes_of_passing_benign_documents_is_not_flagged() -> None:
    rng = random.Random(11)
    docs: list[str] = []
    while sum(len(d) + 2 for d in docs) < 100_000:
        docs.append(rng.choice(_passing_benign()))
    assert not scan_text("\n\n".join(docs)).flagged


def test_padded_attacks_are_still_caught_at_least_half_the_time() -> None:
    """Committed indirect attacks that are flagged alone, each padded among 16 passing documents
    (about 8 KB): at least half stay flagged (17 of 30 with the shipped model; the length
    discount is what the rest cost, see docs/detect-text.md). Strong override wording is
    caught at any length by the local floor (test_scan.py)."""
    rng = random.Random(12)
    attacks = [str(r["text"]) for r in _rows() if r["label"] and r["kind"] == "indirect"][::8]
    caught_alone = [t for t in attacks if scan_text(t).flagged][:30]
    assert len(caught_alone) == 30
    caught_padded = 0
    for attack in caught_alone:
        docs = rng.sample(_passing_benign(), 16)
        docs.insert(rng.randrange(17), attack)
        caught_padded += scan_text("\n\n".join(docs)).flagged
    assert caught_padded >= 15


def test_the_length_discount_only_lowers_scores_and_spares_short_texts() -> None:
    model = default_model()
    short = model.document_probability(1.0, 150)
    assert short == model.document_probability(1.0, int(model.length_unit))
    scores = [model.document_probability(1.0, n) for n in (1_000, 10_000, 100_000)]
    assert short >= scores[0] >= scores[1] >= scores[2]
