"""A linear model's margin for a span of a text, read straight from the text's token table.

`scan` scores every sentence-sized segment with the segment model and every window with the
document model. Building each span's feature dict (`TokenTable.extract`) and taking its dot
product (`InjectionModel.seg_margin`) cost about 15 µs a segment on a 2-core machine, most of
a clean result's scan. For a span that holds no rule hit the vector is simple: its distinct
hash buckets, each at 1 / sqrt(count), plus at most four cues (an AI named, "you" next to it,
imperative sentence openings, cut from a larger text). Its margin is therefore the bias, plus
the sum of the buckets' weights over sqrt(count), plus the cues' weights, which `fast_margin`
reads from `TokenTable.span_tokens` without building a vector. A span with a rule hit, or
one whose lowercase moves offsets, returns None and `scan` takes the reference path for it.

The sum is taken in double precision where the reference takes a single-precision dot
product, so margins agree to single precision rather than bit for bit:
`tests/unit/detect_text/test_span_margins.py` holds margins, scores and every decision to
the reference on the detector's data sets. Training and calibration take the reference path
(`scan.raw_margins` and `scan.linear_parts` set `Margins.exact`), so shipped artifacts never
depend on this one.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np

from mcpwarden.detect.text import features as F
from mcpwarden.detect.text.model import InjectionModel
from mcpwarden.detect.text.token_table import Layout, TokenTable

_CACHED = 4  # models whose weights are kept as flat arrays (the shipped one, in practice)
_OPENS: dict[str, int] = {}  # a segment's first word -> whether it opens an instruction
_OPENS_LIMIT = 65_536  # words remembered; the memo is dropped when full
MEMO_LIMIT = 4096  # distinct rule-free segments remembered within one scan (here and in `scan`)


class LinearWeights:
    """One linear model's bucket weights as a flat double array (about 2 MB), and its cues."""

    __slots__ = ("ai", "bias", "buckets", "embedded", "imperative", "you_ai")

    def __init__(self, weights: np.ndarray[tuple[int], np.dtype[np.float32]], bias: float) -> None:
        self.bias = bias
        self.buckets = array("d", weights[: F.HASH_SIZE].astype(np.float64).tobytes())
        cue = {name: float(weights[index]) for name, index in F._CUE_INDEX.items()}
        self.ai, self.you_ai = cue["mentions-ai"], cue["you-and-ai"]
        self.imperative, self.embedded = cue["imperative-opening"], cue["embedded"]


_BY_MODEL: dict[int, tuple[InjectionModel, LinearWeights, LinearWeights]] = {}


def weights_of(model: InjectionModel) -> tuple[LinearWeights, LinearWeights]:
    """(document, segment) weights of `model`, built once per model object."""
    found = _BY_MODEL.get(id(model))
    if found is None or found[0] is not model:
        if len(_BY_MODEL) >= _CACHED:
            _BY_MODEL.clear()
        found = (
            model,
            LinearWeights(model.doc_weights, model.doc_bias),
            LinearWeights(model.seg_weights, model.seg_bias),
        )
        _BY_MODEL[id(model)] = found
    return found[1], found[2]


def _openings(layout: Layout, text: str, start: int, end: int, segment: bool) -> int:
    """How many sentences of the span open with an imperative verb, as `features.extract` counts.

    A segment holds no sentence break but a trailing run (see `features.segments`), so unless
    a colon or semicolon splits it, its only opening is its first word up to the first
    sentence character; a window has many, and is counted by the reference.
    """
    if segment and text.find(":", start, end) < 0 and text.find(";", start, end) < 0:
        word = bisect_right(layout.starts, start) - 1  # the word holding `start`, if any
        if word >= 0 and layout.ends[word] > start:
            first = layout.lowered[start : min(layout.ends[word], end)]
            opens = _OPENS.get(first)
            if opens is None:
                head = first.translate(F._SENTENCE_TABLE).split("\n", 1)[0]
                if not head:  # the word starts a new sentence: the reference decides
                    return _count(text[start:end])
                opens = int(head.strip("'\"*([") in F._IMPERATIVES)
                if len(_OPENS) >= _OPENS_LIMIT:
                    _OPENS.clear()
                _OPENS[first] = opens
            return opens
    return _count(text[start:end])


def _count(span: str) -> int:
    return sum(1 for s in F._sentence_openers(span) if s in F._IMPERATIVES)


def _margin(
    table: TokenTable,
    layout: Layout,
    start: int,
    end: int,
    weights: LinearWeights,
    embedded: bool,
    segment: bool,
) -> float | None:
    tokens = table.span_tokens(start, end)
    if tokens is None:
        return None
    count = len(tokens.hashed)
    margin = weights.bias
    if count:
        margin += sum(map(weights.buckets.__getitem__, tokens.hashed)) / math.sqrt(count)
    if tokens.ai:
        margin += weights.ai
        if tokens.you:
            margin += weights.you_ai
    opening = _openings(layout, table.text, start, end, segment)
    if opening:
        margin += weights.imperative * min(1.0, opening / 3.0)
    if embedded:
        margin += weights.embedded
    return margin


def fast_margin(
    table: TokenTable, start: int, end: int, weights: LinearWeights, *, embedded: bool, segment: bool
) -> float | None:
    """The margin of the rule-free span `text[start:end]`, or None where only the reference
    path (`TokenTable.extract`, then the model's dot product) can say. `segment` says the span
    is one of `features.segments` (at most one sentence opening)."""
    layout = table.layout
    if layout is None:
        return None
    return _margin(table, layout, start, end, weights, embedded, segment)


def segment_margins(
    table: TokenTable,
    spans: Sequence[tuple[int, int]],
    clean: Sequence[bool],
    weights: LinearWeights,
    memo: dict[tuple[str, bool], float],
) -> list[float | None]:
    """`fast_margin` of each segment in `spans` whose `clean` flag says it holds no rule hit
    (None for the others), as `scan` asks: cut from the text when at most half as long.
    `memo` holds margins by segment text (logs and tables repeat lines) and is shared with
    the reference path; both stop adding at MEMO_LIMIT."""
    layout = table.layout
    if layout is None:
        return [None] * len(spans)
    text = table.text
    half = len(text) // 2
    out: list[float | None] = []
    for (start, end), ok in zip(spans, clean, strict=True):
        if not ok:
            out.append(None)
            continue
        key = (text[start:end], end - start <= half)
        margin = memo.get(key)
        if margin is None:
            margin = _margin(table, layout, start, end, weights, key[1], True)
            if margin is not None and len(memo) < MEMO_LIMIT:
                memo[key] = margin
        out.append(margin)
    return out
