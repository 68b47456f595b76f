"""`tokens` skips the per-character digit look for letters-only words without changing a token."""

from __future__ import annotations

import zlib
from pathlib import Path

import orjson

from mcpwarden.detect.text import features
from mcpwarden.detect.text.features import HASH_SIZE, _bucket, tokens

ROOT = Path(__file__).resolve().parents[3]


def _reference(text: str) -> list[str]:
    """The tokenizer as written before the shortcut: every word looked at character by character."""
    out: list[str] = []
    for raw in text.lower().split():
        if "@" in raw and "." in raw:
            out.append("_email_")
            continue
        if raw.startswith(("http://", "https://", "www.")):
            out.append("_url_")
            continue
        parts = raw.translate(features._TOKEN_TABLE).split()
        if not raw.isascii() and any(features._cjk(c) for c in raw):
            parts = [piece for part in parts for piece in features._split_cjk(part)]
        for word in parts:
            word = word.strip("'")
            if not word:
                continue
            if any(c.isdigit() for c in word):
                word = "_num_" if word.isdigit() else "_code_"
            out.append(word)
    return out


def test_words_with_unusual_digits_are_classed_as_before() -> None:
    text = "x² ٣abc ⅷ ১২৩ abc123 ²³ Ⅻ café naïve 日本語テキスト 42 v1.2"
    assert tokens(text) == _reference(text)


def test_tokens_equal_the_reference_on_every_committed_corpus_row() -> None:
    lines = (ROOT / "data" / "injection" / "generated.jsonl").read_bytes().splitlines()
    texts = [orjson.loads(line)["text"] for line in lines if line.strip()]
    differing = [i for i, t in enumerate(texts) if tokens(t) != _reference(t)]
    assert differing == []


def test_remembered_buckets_equal_the_crc32_of_the_feature() -> None:
    for feature in ("ignore", "ignore previous", "日本", "\udcff", "ignore"):
        expected = zlib.crc32(feature.encode("utf-8", "surrogatepass")) & (HASH_SIZE - 1)
        assert _bucket(feature) == expected
