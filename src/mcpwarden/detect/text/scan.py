"""The tiered injection scan: normalize, then rules, then the learned models.

Rules run once over the whole normalized text (RE2, linear time). The document model
scores overlapping windows and the segment model scores each sentence or line, so an
instruction buried in a long document is not diluted by the surrounding text; the best
window and the best segment are combined into one calibrated score. Decoded and
smuggled segments are scanned as texts of their own. Text that a person cannot see
(tag characters, variation selectors, hidden HTML) but that carries an instruction puts
a floor under the score, since there is no benign reason to hide instructions from the
reader. Work is capped (windows, segments, characters) so a 100 KB result costs a
bounded, predictable amount of time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from mcpwarden.detect.findings import Detection, Finding, Severity
from mcpwarden.detect.text import features
from mcpwarden.detect.text.model import InjectionModel, default_model
from mcpwarden.detect.text.normalize import Normalized, normalize
from mcpwarden.detect.text.rules import RuleHit, hit_to_finding, match_rules, rule_score

WINDOW = 2000
STRIDE = 1500
MAX_WINDOWS = 64  # ~100 KB of text gets full model coverage; beyond that rules still see everything
MAX_SEGMENTS = 1000
MAX_CHARS = 1_000_000
HIDDEN_FLOOR = 0.9  # a strong rule hit inside hidden or smuggled text
SMUGGLED_FLOOR = 0.75  # any readable text smuggled in invisible characters


@dataclass(slots=True)
class _Best:
    """The highest document-window and segment margins, and where they came from."""

    doc: float = -math.inf
    seg: float = -math.inf
    doc_span: tuple[int, int] = (0, 0)
    seg_span: tuple[int, int] = (0, 0)
    doc_origin: str = "text"
    seg_origin: str = "text"

    def offer_doc(self, margin: float, span: tuple[int, int], origin: str) -> None:
        if margin > self.doc:
            self.doc, self.doc_span, self.doc_origin = margin, span, origin

    def offer_seg(self, margin: float, span: tuple[int, int], origin: str) -> None:
        if margin > self.seg:
            self.seg, self.seg_span, self.seg_origin = margin, span, origin


def windows(length: int, window: int = WINDOW, stride: int = STRIDE) -> list[tuple[int, int]]:
    """Overlapping spans covering [0, length), at most MAX_WINDOWS of them spread evenly."""
    if length <= window:
        return [(0, length)]
    starts = list(range(0, length - window + stride, stride))
    if len(starts) > MAX_WINDOWS:
        step = len(starts) / MAX_WINDOWS
        starts = [starts[int(i * step)] for i in range(MAX_WINDOWS)]
    return [(s, min(s + window, length)) for s in starts]


def _overlapping(hits: list[RuleHit], start: int, end: int) -> list[RuleHit]:
    return [h for h in hits if h.span[0] < end and start < h.span[1]]


def _score_text(
    text: str,
    hits: list[RuleHit],
    model: InjectionModel,
    best: _Best,
    to_original: Callable[[int, int], tuple[int, int]],
    origin: str,
) -> None:
    for start, end in windows(len(text)):
        vector = features.extract(text[start:end], _overlapping(hits, start, end))
        best.offer_doc(model.doc_margin(vector), to_original(start, end), origin)
    spans = features.segments(text)
    if len(spans) > MAX_SEGMENTS:
        step = len(spans) / MAX_SEGMENTS
        spans = [spans[int(i * step)] for i in range(MAX_SEGMENTS)]
    for start, end in spans:
        embedded = len(text) >= 2 * (end - start)
        vector = features.extract(text[start:end], _overlapping(hits, start, end), embedded=embedded)
        best.offer_seg(model.seg_margin(vector), to_original(start, end), origin)


def _constant(span: tuple[int, int]) -> Callable[[int, int], tuple[int, int]]:
    """Decoded text has no offset map: every span in it maps to the encoded run."""

    def to_original(_start: int, _end: int) -> tuple[int, int]:
        return span

    return to_original


def _margins(norm: Normalized, hits: list[RuleHit], model: InjectionModel) -> _Best:
    best = _Best()
    _score_text(norm.text, hits, model, best, norm.original_span, "text")
    for seg in norm.segments:
        seg_text = seg.text[:WINDOW]
        _score_text(seg_text, match_rules(seg_text), model, best, _constant(seg.span), seg.origin)
    if best.seg == -math.inf:
        best.seg = model.seg_margin({})
    return best


def default_threshold() -> float:
    """The shipped model's operating point: the calibrated score that gave 1% false
    positives on benign text held out from training."""
    return default_model().threshold


def _all_hits(norm: Normalized, hits: list[RuleHit]) -> list[RuleHit]:
    extra = [h for seg in norm.segments for h in match_rules(seg.text[:WINDOW])]
    return hits + extra if extra else hits


def raw_margins(text: str, model: InjectionModel) -> tuple[float, float, float]:
    """The three uncalibrated scores `scan_text` combines; the training script fits on them."""
    norm = normalize(text[:MAX_CHARS])
    hits = match_rules(norm.text)
    best = _margins(norm, hits, model)
    return best.doc, best.seg, rule_score(_all_hits(norm, hits))


def scan_text(text: str, *, threshold: float | None = None, model: InjectionModel | None = None) -> Detection:
    """Score `text` for prompt injection: a calibrated probability in [0, 1] with findings.

    Findings include what normalization removed or decoded, every rule hit, and the
    model's verdict when it crosses `threshold` (default: the model's operating point,
    see `default_threshold`); spans point into `text` as given.
    """
    model = model or default_model()
    if threshold is None:
        threshold = model.threshold
    findings: list[Finding] = []
    if len(text) > MAX_CHARS:
        findings.append(
            Finding("scan.truncated", Severity.INFO, f"only the first {MAX_CHARS} characters were scanned")
        )
    norm = normalize(text[:MAX_CHARS])
    findings.extend(norm.findings)
    floor = 0.0

    hits = match_rules(norm.text)
    for hit in hits:
        hidden = norm.in_hidden(*hit.span)
        findings.append(hit_to_finding(hit, norm.original_span(*hit.span), hidden=hidden))
        if hidden and hit.rule.weight >= 0.5:
            floor = max(floor, HIDDEN_FLOOR)
    best = _margins(norm, hits, model)

    for seg in norm.segments:
        seg_hits = match_rules(seg.text[:WINDOW])
        for hit in seg_hits:
            findings.append(hit_to_finding(hit, seg.span, origin=seg.origin))
        invisible = seg.origin in {"tag-characters", "variation-selectors"}
        if invisible and sum(c.isalpha() for c in seg.text) >= 4:
            floor = max(floor, SMUGGLED_FLOOR)
        if any(h.rule.weight >= 0.5 for h in seg_hits):
            floor = max(floor, HIDDEN_FLOOR)

    score = max(model.probability(best.doc, best.seg, rule_score(_all_hits(norm, hits))), floor)
    flagged = score >= threshold
    if flagged:
        by_segment = best.seg >= best.doc
        origin = best.seg_origin if by_segment else best.doc_origin
        where = "" if origin == "text" else f" in {origin} content"
        findings.append(
            Finding(
                "injection.model",
                Severity.HIGH if score >= 0.9 else Severity.MEDIUM,
                f"text reads as instructions aimed at an AI model{where}",
                span=best.seg_span if by_segment else best.doc_span,
                score=score,
            )
        )
    return Detection(score=score, flagged=flagged, findings=findings)
