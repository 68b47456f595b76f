"""The tiered injection scan: normalize, then rules, then the learned model.

Rules run once over the whole normalized text (RE2, linear time). The model scores
overlapping windows so an instruction buried in a long document is not diluted by
the surrounding text; the highest window wins. Decoded and smuggled segments are
scanned as texts of their own. Text that a person cannot see (tag characters,
variation selectors, hidden HTML) but that carries an instruction puts a floor under
the score, since there is no benign reason to hide instructions from the reader.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcpwarden.detect.findings import Detection, Finding, Severity
from mcpwarden.detect.text import features
from mcpwarden.detect.text.model import InjectionModel, default_model
from mcpwarden.detect.text.normalize import Normalized, normalize
from mcpwarden.detect.text.rules import RuleHit, hit_to_finding, match_rules

DEFAULT_THRESHOLD = 0.5
WINDOW = 2000
STRIDE = 1500
MAX_WINDOWS = 64  # ~100 KB of text gets full model coverage; beyond that rules still see everything
MAX_CHARS = 1_000_000
HIDDEN_FLOOR = 0.9  # a strong rule hit inside hidden or smuggled text
SMUGGLED_FLOOR = 0.75  # any readable text smuggled in invisible characters


@dataclass(slots=True)
class _Scored:
    margin: float
    span: tuple[int, int]  # original text
    origin: str


def windows(length: int, window: int = WINDOW, stride: int = STRIDE) -> list[tuple[int, int]]:
    """Overlapping spans covering [0, length), at most MAX_WINDOWS of them spread evenly."""
    if length <= window:
        return [(0, length)]
    starts = list(range(0, length - window + stride, stride))
    if len(starts) > MAX_WINDOWS:
        step = len(starts) / MAX_WINDOWS
        starts = [starts[int(i * step)] for i in range(MAX_WINDOWS)]
    return [(s, min(s + window, length)) for s in starts]


def _window_hits(hits: list[RuleHit], start: int, end: int) -> list[RuleHit]:
    return [h for h in hits if h.span[0] < end and start < h.span[1]]


def _score_main(norm: Normalized, hits: list[RuleHit], model: InjectionModel) -> _Scored:
    best: _Scored | None = None
    for start, end in windows(len(norm.text)):
        vector = features.extract(norm.text[start:end], _window_hits(hits, start, end))
        margin = model.margin(vector)
        if best is None or margin > best.margin:
            best = _Scored(margin, norm.original_span(start, end), "text")
    assert best is not None
    return best


def raw_margin(text: str, model: InjectionModel | None = None) -> float:
    """The uncalibrated score `scan_text` calibrates; the training script fits on it."""
    model = model or default_model()
    norm = normalize(text[:MAX_CHARS])
    margin = _score_main(norm, match_rules(norm.text), model).margin
    for seg in norm.segments:
        seg_text = seg.text[:WINDOW]
        margin = max(margin, model.margin(features.extract(seg_text, match_rules(seg_text))))
    return margin


def scan_text(
    text: str, *, threshold: float = DEFAULT_THRESHOLD, model: InjectionModel | None = None
) -> Detection:
    """Score `text` for prompt injection: a calibrated probability in [0, 1] with findings.

    Findings include what normalization removed or decoded, every rule hit, and the
    model's verdict when it crosses `threshold`; spans point into `text` as given.
    """
    model = model or default_model()
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
    best = _score_main(norm, hits, model)

    for seg in norm.segments:
        seg_text = seg.text[:WINDOW]
        seg_hits = match_rules(seg_text)
        for hit in seg_hits:
            findings.append(hit_to_finding(hit, seg.span, origin=seg.origin))
        margin = model.margin(features.extract(seg_text, seg_hits))
        if margin > best.margin:
            best = _Scored(margin, seg.span, seg.origin)
        invisible = seg.origin in {"tag-characters", "variation-selectors"}
        if invisible and sum(c.isalpha() for c in seg.text) >= 4:
            floor = max(floor, SMUGGLED_FLOOR)
        if (invisible or seg_hits) and any(h.rule.weight >= 0.5 for h in seg_hits):
            floor = max(floor, HIDDEN_FLOOR)

    score = max(model.probability(best.margin), floor)
    flagged = score >= threshold
    if flagged:
        where = "" if best.origin == "text" else f" in {best.origin} content"
        findings.append(
            Finding(
                "injection.model",
                Severity.HIGH if score >= 0.9 else Severity.MEDIUM,
                f"text reads as instructions aimed at an AI model{where}",
                span=best.span,
                score=score,
            )
        )
    return Detection(score=score, flagged=flagged, findings=findings)
