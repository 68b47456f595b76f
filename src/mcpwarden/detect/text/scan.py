"""The tiered injection scan over the whole text: normalize, rules, learned models.

Nothing is left unscanned and nothing is sampled. A text is cut into blocks of BLOCK
characters (overlapping by OVERLAP, so a phrase or a window that straddles a cut is seen
whole in one of them); each block is normalized, every rule runs over all of it (RE2,
linear time), the document model scores every 2 KB window and the segment model every
sentence, line or table cell. Decoded and smuggled segments are scanned as texts of
their own. Cost is therefore linear in the length, and memory is bounded by the block.

Aggregation is what keeps long texts honest. Each window is judged as a text of its own
(its document margin, its best segment, its rules), so joining documents that each pass
adds no evidence; and the best of many windows is higher than the best of few even when
every part is benign, so the best window's logit is discounted by a log-length term
calibrated for an even false-positive rate across lengths (see `model.py`). A padded
attack is protected differently: a window holding a strong rule hit (override,
chat-template spoofing, and the like) is also scored as if it were the whole text,
without the discount, and that local score is a floor. Text a person cannot see (tag
characters, variation selectors, hidden HTML) that carries an instruction puts a fixed
floor under the score, since there is no benign reason to hide instructions from the
reader.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mcpwarden.detect.findings import Detection, Finding, Severity
from mcpwarden.detect.text import features
from mcpwarden.detect.text.model import Channel, InjectionModel, check_channel, default_model
from mcpwarden.detect.text.normalize import Normalized, normalize
from mcpwarden.detect.text.rules import RuleHit, hit_to_finding, match_rules, rule_score
from mcpwarden.detect.text.span_margins import MEMO_LIMIT, fast_margin, segment_margins, weights_of
from mcpwarden.detect.text.token_table import TokenTable

if TYPE_CHECKING:
    from mcpwarden.detect.text.minilm import SmallModel

WINDOW = 2000
STRIDE = 1500
BLOCK = 131_072  # characters normalized and scored at a time
OVERLAP = 4_096  # > WINDOW: a window-sized instruction across a block cut is whole in one block
STRONG_RULE = 0.8  # rules at least this heavy make their window a local floor
HIDDEN_FLOOR = 0.9  # a strong rule hit inside hidden or smuggled text
SMUGGLED_FLOOR = 0.75  # any readable text smuggled in invisible characters


@dataclass(slots=True)
class Margins:
    """What the combiner needs from a scan: best margins, local rule score and counts."""

    doc: float = -math.inf
    seg: float = -math.inf
    rules: float = 0.0
    best: float = -math.inf
    n_windows: int = 0
    n_segments: int = 0
    n_chars: int = 0
    doc_span: tuple[int, int] = (0, 0)
    seg_span: tuple[int, int] = (0, 0)
    doc_origin: str = "text"
    seg_origin: str = "text"
    local: list[float] = field(default_factory=list)
    # (window logit, order, text, start, end) of every window, kept only for the cascade (it
    # re-reads the best few), so the linear-only hot path does not pay for them
    keep_spans: bool = False
    # every span through `TokenTable.extract` and the model's own dot product (training and
    # calibration: bit-for-bit reproducible artifacts) instead of `span_margins.fast_margin`
    exact: bool = False
    spans: list[tuple[float, int, str, int, int]] = field(default_factory=list)
    memo: dict[tuple[str, bool], float] = field(default_factory=dict)

    def offer_doc(self, margin: float, span: tuple[int, int], origin: str) -> None:
        if margin > self.doc:
            self.doc, self.doc_span, self.doc_origin = margin, span, origin

    def offer_seg(self, margin: float, span: tuple[int, int], origin: str) -> None:
        if margin > self.seg:
            self.seg, self.seg_span, self.seg_origin = margin, span, origin


def windows(length: int, window: int = WINDOW, stride: int = STRIDE) -> list[tuple[int, int]]:
    """Overlapping spans covering all of [0, length); their number grows linearly with it."""
    if length <= window:
        return [(0, length)]
    starts = list(range(0, length - window + stride, stride))
    return [(s, min(s + window, length)) for s in starts]


def blocks(length: int, text: str | None = None) -> list[tuple[int, int]]:
    """Spans of at most BLOCK + OVERLAP characters covering [0, length), overlapping by OVERLAP.

    With `text`, a cut moves back to a line break in the last eighth of the block when there
    is one, so fewer sentences are split.
    """
    out: list[tuple[int, int]] = []
    start = 0
    while True:
        end = min(start + BLOCK + OVERLAP, length)
        out.append((start, end))
        if end >= length:
            return out
        cut = end - OVERLAP
        if text is not None:
            newline = text.rfind("\n", cut - BLOCK // 8, cut)
            cut = newline + 1 if newline > start else cut
        start = cut


class _HitIndex:
    """Rule hits sorted by start, for overlap queries in O(log n + k).

    A linear scan of every hit per window and per segment would make the whole-text scan
    quadratic on long texts with many (harmless) rule hits.
    """

    def __init__(self, hits: list[RuleHit]) -> None:
        self.hits = sorted(hits, key=lambda h: h.span)
        self.starts = [h.span[0] for h in self.hits]
        self.longest = max((h.span[1] - h.span[0] for h in self.hits), default=0)

    def overlapping(self, start: int, end: int) -> list[RuleHit]:
        if not self.hits:
            return []
        lo = bisect.bisect_left(self.starts, start - self.longest)
        hi = bisect.bisect_left(self.starts, end)
        return [h for h in self.hits[lo:hi] if h.span[0] < end and start < h.span[1]]


def _seg_margin(
    table: TokenTable, start: int, end: int, hits: _HitIndex, model: InjectionModel, m: Margins
) -> float:
    text = table.text
    embedded = len(text) >= 2 * (end - start)
    seg_hits = hits.overlapping(start, end)
    if seg_hits:
        return model.seg_margin(table.extract(start, end, seg_hits, embedded=embedded))
    key = (text[start:end], embedded)
    cached = m.memo.get(key)
    if cached is None:
        cached = model.seg_margin(table.extract(start, end, (), embedded=embedded))
        if len(m.memo) < MEMO_LIMIT:
            m.memo[key] = cached
    return cached


def _doc_margin(
    table: TokenTable, start: int, end: int, inside: list[RuleHit], model: InjectionModel, m: Margins
) -> float:
    if not inside and not m.exact:
        fast = fast_margin(table, start, end, weights_of(model)[0], embedded=False, segment=False)
        if fast is not None:
            return fast
    return model.doc_margin(table.extract(start, end, inside))


def _score_text(
    text: str,
    hits: list[RuleHit],
    model: InjectionModel,
    m: Margins,
    to_original: Callable[[int, int], tuple[int, int]],
    origin: str,
) -> None:
    """Score every window and segment of `text` into `m` (tokenized once: see `token_table`)."""
    index = _HitIndex(hits)
    table = TokenTable(text)
    spans = features.segments(text)
    starts = [s for s, _ in spans]
    seg_margins: list[float] = []
    fast: list[float | None] = [None] * len(spans)
    if not m.exact:
        clean = [not index.overlapping(s, e) for s, e in spans] if hits else [True] * len(spans)
        fast = segment_margins(table, spans, clean, weights_of(model)[1], m.memo)
    for (start, end), quick in zip(spans, fast, strict=True):
        margin = _seg_margin(table, start, end, index, model, m) if quick is None else quick
        seg_margins.append(margin)
        if margin > m.seg:  # the span is mapped back only for a new best
            m.offer_seg(margin, to_original(start, end), origin)
    m.n_segments += len(spans)
    m.n_chars += len(text)
    for start, end in windows(len(text)):
        inside = index.overlapping(start, end)
        margin = _doc_margin(table, start, end, inside, model, m)
        m.offer_doc(margin, to_original(start, end), origin)
        m.n_windows += 1
        local_rules = rule_score(inside)
        m.rules = max(m.rules, local_rules)
        lo, hi = bisect.bisect_left(starts, start), bisect.bisect_left(starts, end)
        seg_best = max(seg_margins[lo:hi], default=model.seg_margin({}))
        # The window is judged as a text of its own: its margins are never mixed with
        # another window's, so joining passing documents cannot add up their evidence.
        local = model.window_logit(margin, seg_best, local_rules)
        m.best = max(m.best, local)
        if m.keep_spans:
            m.spans.append((local, len(m.spans), text, start, end))
        if any(h.rule.weight >= STRONG_RULE for h in inside):
            m.local.append(local)


def _constant(span: tuple[int, int]) -> Callable[[int, int], tuple[int, int]]:
    """Decoded text has no offset map: every span in it maps to the encoded run."""

    def to_original(_start: int, _end: int) -> tuple[int, int]:
        return span

    return to_original


def _shifted(norm: Normalized, base: int) -> Callable[[int, int], tuple[int, int]]:
    def to_original(start: int, end: int) -> tuple[int, int]:
        s, e = norm.original_span(start, end)
        return s + base, e + base

    return to_original


@dataclass(slots=True)
class _Block:
    """One normalized block: its rule hits and decoded segments' hits, already scored into margins."""

    norm: Normalized
    base: int
    hits: list[RuleHit]
    seg_hits: list[list[RuleHit]]


def _scan_blocks(text: str, model: InjectionModel, m: Margins) -> list[_Block]:
    out: list[_Block] = []
    for start, end in blocks(len(text), text):
        norm = normalize(text[start:end])
        hits = match_rules(norm.text)
        _score_text(norm.text, hits, model, m, _shifted(norm, start), "text")
        seg_hits = []
        for seg in norm.segments:
            found = match_rules(seg.text)
            seg_hits.append(found)
            span = (seg.span[0] + start, seg.span[1] + start)
            _score_text(seg.text, found, model, m, _constant(span), seg.origin)
        out.append(_Block(norm, start, hits, seg_hits))
    if m.seg == -math.inf:
        m.seg = model.seg_margin({})
    return out


def raw_margins(text: str, model: InjectionModel) -> Margins:
    """The uncalibrated quantities `scan_text` combines; the training script fits on them."""
    m = Margins(exact=True)
    _scan_blocks(text, model, m)
    return m


def default_threshold(channel: Channel = "tool_result") -> float:
    """The shipped model's flag threshold for `channel` (see docs/detect-text.md)."""
    return default_model().flag_threshold(check_channel(channel))


def block_threshold(channel: Channel = "tool_result") -> float:
    """The shipped model's stricter block threshold for `channel`."""
    return default_model().block_threshold(check_channel(channel))


def combined_score(m: Margins, model: InjectionModel) -> float:
    """The calibrated probability: the best window, discounted for how many chances the text's
    length gave it (`InjectionModel.document_probability`), floored by windows holding a strong
    rule hit, which are judged as if they were the whole text."""
    if m.best == -math.inf:
        return model.document_probability(model.window_logit(model.doc_bias, m.seg, 0.0), 0)
    score = model.document_probability(m.best, m.n_chars)
    for local in m.local:
        score = max(score, model.document_probability(local, 0))
    return score


def suspicious_windows(m: Margins, k: int) -> list[str]:
    """The (normalized) text of the `k` windows with the highest linear logits."""
    return [text[start:end] for _, _, text, start, end in heapq.nlargest(k, m.spans)]


def _findings(scanned: list[_Block]) -> tuple[list[Finding], float]:
    """Normalization and rule findings in original offsets, deduplicated across block overlaps,
    and the floor that hidden or smuggled instructions put under the score."""
    findings: list[Finding] = []
    seen: set[tuple[str, tuple[int, int] | None]] = set()
    floor = 0.0

    def add(finding: Finding) -> None:
        key = (finding.rule, finding.span)
        if key not in seen:
            seen.add(key)
            findings.append(finding)

    for block in scanned:
        norm, base = block.norm, block.base

        def shift(span: tuple[int, int], base: int = base) -> tuple[int, int]:
            return span[0] + base, span[1] + base

        for f in norm.findings:
            add(Finding(f.rule, f.severity, f.message, f.path, shift(f.span) if f.span else None, f.score))
        for hit in block.hits:
            hidden = norm.in_hidden(*hit.span)
            add(hit_to_finding(hit, shift(norm.original_span(*hit.span)), hidden=hidden))
            if hidden and hit.rule.weight >= 0.5:
                floor = max(floor, HIDDEN_FLOOR)
        for seg, seg_hits in zip(norm.segments, block.seg_hits, strict=True):
            for hit in seg_hits:
                add(hit_to_finding(hit, shift(seg.span), origin=seg.origin))
            invisible = seg.origin in {"tag-characters", "variation-selectors"}
            if invisible and sum(c.isalpha() for c in seg.text) >= 4:
                floor = max(floor, SMUGGLED_FLOOR)
            if any(h.rule.weight >= 0.5 for h in seg_hits):
                floor = max(floor, HIDDEN_FLOOR)
    return findings, floor


def linear_parts(text: str, model: InjectionModel, k: int) -> tuple[float, float, list[str], int]:
    """The linear tier's score (before floors), the floor, the `k` most suspicious window texts
    and the length: what the cascade combines, for its calibration (`scripts/minilm/`)."""
    m = Margins(keep_spans=True, exact=True)
    _, floor = _findings(_scan_blocks(text, model, m))
    return combined_score(m, model), floor, suspicious_windows(m, k), m.n_chars


def _cascaded(score: float, m: Margins, channel: str, small: SmallModel) -> float:
    from mcpwarden.detect.text.cascade import TOP_WINDOWS

    try:
        return small.cascade.rescore(score, suspicious_windows(m, TOP_WINDOWS), m.n_chars, channel, small)
    except Exception:
        small.errors += 1
        return score


def scan_text(
    text: str,
    *,
    threshold: float | None = None,
    model: InjectionModel | None = None,
    channel: Channel = "tool_result",
    small_model: SmallModel | None = None,
) -> Detection:
    """Score all of `text` for prompt injection: a calibrated probability in [0, 1] with findings.

    `channel` says where the text comes from: `tool_result` (tool results, resource reads,
    anything an upstream returns as data) or `prompt` (prompt messages and sampling
    requests, instructions by design). It picks the default `threshold`, which decides
    `flagged` (see `default_threshold` and `block_threshold`). With `small_model`, a text
    whose linear score falls in the channel's uncertain band is re-scored by the cascade
    (`cascade.py`); a model error then keeps the linear score (never an exception), since a
    request must not fail because the second opinion did. Findings include what
    normalization removed or decoded, every rule hit, and the model's verdict when it
    crosses the threshold; spans point into `text` as given.
    """
    model = model or default_model()
    if threshold is None:
        threshold = model.flag_threshold(check_channel(channel))
    m = Margins(keep_spans=small_model is not None)
    scanned = _scan_blocks(text, model, m)
    findings, floor = _findings(scanned)
    score = combined_score(m, model)
    if small_model is not None:
        score = _cascaded(score, m, channel, small_model)
    score = max(score, floor)
    flagged = score >= threshold
    if flagged:
        by_segment = m.seg >= m.doc
        origin = m.seg_origin if by_segment else m.doc_origin
        where = "" if origin == "text" else f" in {origin} content"
        findings.append(
            Finding(
                "injection.model",
                Severity.HIGH if score >= 0.9 else Severity.MEDIUM,
                f"text reads as instructions aimed at an AI model{where}",
                span=m.seg_span if by_segment else m.doc_span,
                score=score,
            )
        )
    return Detection(score=score, flagged=flagged, findings=findings)
