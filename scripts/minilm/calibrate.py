"""Calibrate the cascade (combiner and per-channel bands) on rows the models never trained on.

Used by `build.py` (the shipped model) and by `bench/detect_minilm_loso.py` (each fold).
1. Every calibration row, and joins of 2-16 benign tool-output calibration rows, is scored by
   the linear tier; the small model reads the linear tier's most suspicious windows of each.
2. The combiner (`cascade.Combiner`) is one logistic regression over logit(linear score),
   the model's best window logit and log(length units), class-balanced; the joins are what
   make its length coefficient mean "a longer text is more chances, not more evidence".
3. For each channel, bands [low, high) are tried on a grid; inside a band the combined
   probability's flag point is set so that the channel's false-positive rate on calibration
   negatives is no higher than the linear tier's own there; the band with the best
   true-positive rate wins, the narrower (cheaper) one on ties.
"""

from __future__ import annotations

import math
import random
import sys
from dataclasses import dataclass
from typing import Any

import injection_data as idata
import numpy as np
from sklearn.linear_model import LogisticRegression

from mcpwarden.detect.text.cascade import LENGTH_UNIT, TOP_WINDOWS, Band, Combiner, logit
from mcpwarden.detect.text.minilm import SmallModel
from mcpwarden.detect.text.model import InjectionModel
from mcpwarden.detect.text.scan import linear_parts

SEED = 20261207
JOIN_SIZES = (2, 4, 8, 16)
JOINS_PER_SIZE = 24
LOW_QUANTILES = (0.5, 0.7, 0.8, 0.9, 0.95)


@dataclass(slots=True)
class Point:
    label: int
    channel: str
    linear: float
    floor: float
    model: float
    n_chars: int


def score_points(texts: list[tuple[str, int, str]], linear: InjectionModel, small: SmallModel) -> list[Point]:
    out = []
    for text, label, channel in texts:
        score, floor, windows, n_chars = linear_parts(text, linear, TOP_WINDOWS)
        out.append(Point(label, channel, score, floor, small.cascade.model_logit(small, windows), n_chars))
    return out


def _features(points: list[Point]) -> np.ndarray:
    return np.array(
        [[logit(p.linear), p.model, math.log(max(1.0, p.n_chars / LENGTH_UNIT))] for p in points],
        dtype=np.float64,
    )


def fit_combiner(points: list[Point]) -> Combiner:
    y = np.array([p.label for p in points])
    lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
    lr.fit(_features(points), y)
    a, b, e = (float(x) for x in lr.coef_[0])
    return Combiner(a, b, min(e, 0.0), float(lr.intercept_[0]))


def _final(points: list[Point], band: Band, combiner: Combiner) -> np.ndarray:
    out = []
    for p in points:
        s = p.linear
        if band.contains(s):
            s = band.place(combiner.probability(p.linear, p.model, p.n_chars))
        out.append(max(s, p.floor))
    return np.array(out)


def choose_band(
    points: list[Point], combiner: Combiner, flag: float, block: float
) -> tuple[Band, float, float]:
    """The band with the best calibration TPR at no more FPR than the linear tier's; (band, tpr, share)."""
    neg = [p for p in points if not p.label]
    pos = [p for p in points if p.label]
    neg_lin = np.array([max(p.linear, p.floor) for p in neg])
    pos_lin = np.array([max(p.linear, p.floor) for p in pos])
    allowed = float((neg_lin >= flag).mean()) if len(neg) else 0.0
    best: tuple[float, float, Band] | None = None
    lows = sorted({min(float(np.quantile(neg_lin, q)), flag * 0.999) for q in LOW_QUANTILES})
    highs = sorted({h for h in (block, (flag + block) / 2, 0.95, 0.99) if h > flag})
    for low in lows:
        for high in highs:
            for t in np.linspace(0.02, 0.98, 49):
                band = Band(low, high, flag, float(t))
                fpr = float((_final(neg, band, combiner) >= flag).mean()) if neg else 0.0
                if fpr > allowed + 1e-12:
                    continue
                tpr = float((_final(pos, band, combiner) >= flag).mean()) if pos else 0.0
                share = float(((neg_lin >= low) & (neg_lin < high)).mean())
                key = (tpr, -share)
                if best is None or key > (best[0], best[1]):
                    best = (tpr, -share, band)
                break  # the smallest t that meets the FPR is the best for this band
    if best is None:  # no band keeps the FPR: an empty band, the linear tier alone
        return Band(flag, flag, flag, 0.5), float((pos_lin >= flag).mean()) if len(pos) else 0.0, 0.0
    return best[2], best[0], -best[1]


def calibrate(
    small: SmallModel, linear: InjectionModel, rows: list[dict[str, Any]], *, log: bool = True
) -> dict[str, Any]:
    texts = [(r["text"], int(r["label"]), idata.channel_of(r)) for r in rows]
    rng = random.Random(SEED)
    benign = [r["text"] for r in rows if not r["label"] and idata.channel_of(r) == "tool_result"]
    joins = [
        ("\n\n".join(rng.choices(benign, k=k)), 0, "tool_result")
        for k in JOIN_SIZES
        for _ in range(JOINS_PER_SIZE)
    ]
    points = score_points(texts + joins, linear, small)
    combiner = fit_combiner(points)
    bands: dict[str, Any] = {}
    for channel in ("tool_result", "prompt"):
        mine = [p for p in points if p.channel == channel]
        band, tpr, share = choose_band(
            mine, combiner, linear.flag_threshold(channel), linear.block_threshold(channel)
        )
        lin_tpr = float(np.mean([max(p.linear, p.floor) >= band.flag for p in mine if p.label] or [0.0]))
        if log:
            print(
                f"{channel}: band [{band.low:.4f}, {band.high:.4f}) holds {share:.1%} of benign rows; "
                f"calibration TPR {lin_tpr:.3f} -> {tpr:.3f} at the linear tier's FPR",
                file=sys.stderr,
            )
        bands[channel] = {
            "low": band.low,
            "high": band.high,
            "flag": band.flag,
            "combined_flag": band.combined_flag,
        }
    return {"combiner": [combiner.linear, combiner.model, combiner.length, combiner.bias], "bands": bands}
