"""Training library for the text injection model, shared by the training script, the
leave-one-source-out benchmark and the reduced-model test.

Inputs are only the committed files under data/injection/ (their SHA-256 is checked
against data/injection/manifest.json), so two builds on two machines see the same rows.
Everything random takes a seeded `random.Random`; scikit-learn's liblinear solver is
deterministic for a fixed row order and seed.

Three stages:
1. features, computed once per row (document vector, and per-segment vectors with labels);
2. two logistic models (document windows, segments);
3. a combiner of one window's margins fitted on calibration rows and on joins with attacks
   padded among benign documents; a log-length coefficient chosen so that benign
   calibration documents and joins of passing ones are flagged at the same rate at every
   length; then per-channel thresholds.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from injection_data import channel_of, source_joins

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mcpwarden.detect.text import features  # noqa: E402
from mcpwarden.detect.text.model import InjectionModel  # noqa: E402
from mcpwarden.detect.text.normalize import normalize  # noqa: E402
from mcpwarden.detect.text.rules import RULES, match_rules  # noqa: E402
from mcpwarden.detect.text.scan import WINDOW, Margins, combined_score, raw_margins  # noqa: E402

SEED = 20261127
LENGTH_UNIT = 200.0  # texts up to this many characters get no length discount
STRONG = frozenset(features.RULE_INDEX[r.id] for r in RULES if r.weight >= 0.5)


@dataclass(frozen=True, slots=True)
class Options:
    """Hyperparameters; the defaults build the shipped model."""

    c: float = 16.0
    negative_weight: float = 2.0
    flag_fpr: float = 0.01  # document-level FPR of the flag threshold on calibration negatives
    block_fpr: float = 0.0025  # of the block threshold (tool results must stay <= 0.5% unseen)
    prompt_flag_fpr: float = 0.02  # prompts: few calibration rows, so a coarser quantile
    prompt_block_fpr: float = 0.01
    joins: int = 240  # joined benign documents and padded attacks for the combiner
    calib_fraction: float = 0.2
    window_examples: int = 800  # joined-document windows for the document model
    length_fpr: float = 0.05  # the quantile whose rate is evened out across lengths
    readmes: bool = False  # train on real README sections (split by package, never `eval` rows)
    join_flag: bool = False  # hold joins of passing benign documents, per source, to flag_fpr too
    split_offset: int = 0  # added to SEED for the fit/calibration split only


def add_recipe_arguments(parser: argparse.ArgumentParser) -> None:
    """Command-line switches for the training recipe, shared by the build and the benchmarks."""
    defaults = Options()
    parser.add_argument(
        "--readmes",
        action=argparse.BooleanOptionalAction,
        default=defaults.readmes,
        help="train on the README sections of data/injection/real-readmes.jsonl (not `eval` rows)",
    )
    parser.add_argument(
        "--join-flag",
        action=argparse.BooleanOptionalAction,
        default=defaults.join_flag,
        help="raise the tool_result flag point until joins of passing benign documents of each "
        "source are flagged at most at the flag FPR",
    )
    parser.add_argument(
        "--split-seed-offset",
        type=int,
        default=defaults.split_offset,
        help="added to the seed of the fit/calibration split (0: the shipped split)",
    )


def recipe_options(args: argparse.Namespace) -> Options:
    return replace(
        Options(), readmes=args.readmes, join_flag=args.join_flag, split_offset=args.split_seed_offset
    )


# ---------------------------------------------------------------- features


@dataclass(slots=True)
class Prepared:
    row: dict[str, Any]
    doc: dict[int, float]
    segments: list[tuple[str, dict[int, float], bool]]  # text, features, inside the payload


def _doc_vector(norm_text: str, norm_segments: list[str]) -> dict[int, float]:
    vec = features.extract(norm_text, match_rules(norm_text))
    for seg in norm_segments:
        for k, v in features.extract(seg, match_rules(seg)).items():
            if k >= features.HASH_SIZE:
                vec[k] = max(vec.get(k, 0.0), v)
    return vec


def prepare(row: dict[str, Any]) -> Prepared:
    norm = normalize(row["text"])
    text = norm.text
    hits = match_rules(text)
    payload_span = None
    if row.get("payload"):
        needle = normalize(row["payload"]).text.strip()
        at = text.find(needle)
        if at >= 0:
            payload_span = (at, at + len(needle))
    segs = []
    for start, end in features.segments(text):
        seg_hits = [h for h in hits if h.span[0] < end and start < h.span[1]]
        embedded = len(text) >= 2 * (end - start)
        inside = False
        if payload_span is not None:
            overlap = min(end, payload_span[1]) - max(start, payload_span[0])
            inside = overlap >= 0.5 * (end - start)
        segs.append((text[start:end], features.extract(text[start:end], seg_hits, embedded=embedded), inside))
    return Prepared(row, _doc_vector(text, [s.text for s in norm.segments]), segs)


def _matrix(vectors: list[dict[int, float]]) -> Any:
    from scipy.sparse import csr_matrix

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for i, vec in enumerate(vectors):
        for k, v in vec.items():
            rows.append(i)
            cols.append(k)
            vals.append(v)
    return csr_matrix((vals, (rows, cols)), shape=(len(vectors), features.N_FEATURES), dtype=np.float64)


def segment_examples(
    fit: list[Prepared], benign_segments: set[str]
) -> tuple[list[dict[int, float]], list[int]]:
    """Line/sentence-level examples.

    Negatives: every segment of a benign row. Positives: segments inside a known payload
    (generated rows); for the shared data, segments of an injected BIPIA/AgentDojo document
    that occur in no clean document (each clean context sits next to its injected copies)
    and segments of other attacks that hit a strong rule. Whole shared direct prompts are
    left to the document model: as segments they would teach that any question is an attack.
    """
    vectors: list[dict[int, float]] = []
    labels: list[int] = []
    for p in fit:
        row = p.row
        if not row["label"]:
            for _, vec, _ in p.segments:
                vectors.append(vec)
                labels.append(0)
            continue
        has_payload = bool(row.get("payload"))
        diffable = row["kind"] == "indirect" and row["family"] in {"bipia", "agentdojo"}
        # Only when the clean context is known does the difference isolate the injection.
        known = diffable and any(seg in benign_segments for seg, _, _ in p.segments)
        for seg, vec, inside in p.segments:
            if has_payload:
                positive = inside
            elif known:
                positive = seg not in benign_segments
            else:
                positive = any(k in vec for k in STRONG)
            if positive:
                vectors.append(vec)
                labels.append(1)
    return vectors, labels


# ---------------------------------------------------------------- joins for the combiner


def joined_texts(rows: list[dict[str, Any]], rng: random.Random, count: int) -> list[tuple[str, int, str]]:
    """Benign tool-output documents joined 2..16 at a time (label 0), and attacks padded among
    such documents (label 1): (text, label, family of the attack or 'join')."""
    benign = [r for r in rows if not r["label"] and channel_of(r) == "tool_result"]
    attacks = [r for r in rows if r["label"] and r["kind"] in {"indirect", "direct"}]
    out: list[tuple[str, int, str]] = []
    if len(benign) < 2:
        return out
    for i in range(count):
        k = (2, 4, 8, 16)[i % 4]
        docs = [r["text"] for r in rng.sample(benign, min(k, len(benign)))]
        if i % 2 and attacks:
            attack = rng.choice(attacks)
            docs.insert(rng.randrange(len(docs) + 1), attack["text"])
            out.append(("\n\n".join(docs), 1, attack["family"]))
        else:
            out.append(("\n\n".join(docs), 0, "join"))
    return out


def window_examples(
    fit: list[Prepared], rng: random.Random, count: int
) -> list[tuple[dict[int, float], int]]:
    """Document-model examples shaped like the windows a long result is cut into.

    Single documents are short, so without these the document model never sees a 2 KB
    window of several unrelated benign documents, and its margin drifts up with the number
    of documents in a window: a length bias. Half are windows of joined benign tool-output
    documents (label 0), half windows of such a join holding one attack (label 1).
    """
    benign = [p.row["text"] for p in fit if not p.row["label"] and channel_of(p.row) == "tool_result"]
    attacks = [
        p.row["text"]
        for p in fit
        if p.row["label"] and p.row["kind"] in {"indirect", "direct"} and len(p.row["text"]) < 1500
    ]
    out: list[tuple[dict[int, float], int]] = []
    if len(benign) < 8 or not attacks:
        return out
    for i in range(count):
        docs = rng.sample(benign, rng.choice((2, 3, 4, 6, 8)))
        label = i % 2
        at = rng.randrange(len(docs) + 1)
        if label:
            docs.insert(at, rng.choice(attacks))
        text = "\n\n".join(docs)
        if len(text) > WINDOW:
            start = rng.randrange(len(text) - WINDOW + 1)
            if label:  # a window that holds the whole attack (shorter than 1500 characters)
                attack_at = sum(len(d) + 2 for d in docs[:at])
                lo = max(0, attack_at + len(docs[at]) - WINDOW)
                start = rng.randint(lo, max(lo, min(attack_at, len(text) - WINDOW)))
            text = text[start : start + WINDOW]
        norm = normalize(text)
        out.append((_doc_vector(norm.text, [s.text for s in norm.segments]), label))
    return out


def _features(m: Margins) -> list[float]:
    return [m.doc, m.seg, m.rules]


def passing_joins(texts: list[str], rng: random.Random, count: int) -> list[str]:
    """Benign documents that each pass, joined 2..16 at a time: what a long benign result is."""
    out: list[str] = []
    if len(texts) < 2:
        return out
    for i in range(count):
        k = (2, 4, 8, 16)[i % 4]
        out.append("\n\n".join(rng.sample(texts, min(k, len(texts)))))
    return out


LENGTH_EDGES = (200, 500, 1_000, 2_000, 5_000, 20_000)


def length_coefficient(benign: list[tuple[float, int]], fpr: float, grid: int = 81) -> float:
    """The log-length coefficient (≤ 0) that makes the benign false-positive rate most even
    across lengths.

    `benign` are (best-window logit, characters) of benign tool-output texts: single
    documents and joins of documents that each pass. For each candidate coefficient the
    logits are discounted, one threshold is taken at the pooled (1 - fpr) quantile, and the
    worst length bucket's rate above it is measured; the coefficient with the lowest worst
    bucket wins (the smaller discount on ties, to keep padded attacks). This is the
    per-window threshold raised with length for the promised document-level FPR.
    """
    if len(benign) < 20:
        return 0.0
    z = np.array([v for v, _ in benign])
    n = np.array([c for _, c in benign], dtype=np.float64)
    logs = np.log(np.maximum(1.0, n / LENGTH_UNIT))
    bucket = np.searchsorted(np.asarray(LENGTH_EDGES), n, side="right")
    best, best_worst = 0.0, np.inf
    for step in range(grid):
        e = -0.05 * step
        adjusted = z + e * logs
        threshold = float(np.quantile(adjusted, 1.0 - fpr))
        worst = max(
            float(np.mean(adjusted[bucket == k] > threshold))
            for k in np.unique(bucket)
            if (bucket == k).sum() >= 10
        )
        if worst < best_worst - 1e-9:
            best, best_worst = e, worst
    return best


# ---------------------------------------------------------------- training


def _quantile_threshold(scores: list[float], fpr: float) -> float:
    """The score above which a fraction `fpr` of `scores` lies (linear interpolation)."""
    if not scores:
        return 0.5
    return float(np.quantile(np.asarray(scores, dtype=np.float64), 1.0 - fpr)) + 1e-6


def train(
    fit: list[Prepared],
    calib: list[Prepared],
    options: Options,
    seed: int = SEED,
    *,
    log: bool = True,
) -> InjectionModel:
    """Fit the two linear models on `fit`, the combiner and thresholds on `calib` rows."""
    from sklearn.linear_model import LogisticRegression

    rng = random.Random(seed)
    extra = window_examples(fit, rng, options.window_examples)
    labels = np.array([int(p.row["label"]) for p in fit] + [label for _, label in extra])
    weights = np.where(labels == 1, 1.0, options.negative_weight)
    doc = LogisticRegression(C=options.c, max_iter=2000, solver="liblinear", random_state=seed)
    doc.fit(_matrix([p.doc for p in fit] + [vec for vec, _ in extra]), labels, sample_weight=weights)

    benign_segments = {s for p in fit + calib if not p.row["label"] for s, _, _ in p.segments}
    seg_vectors, seg_labels = segment_examples(fit, benign_segments)
    y = np.array(seg_labels)
    pos_w = options.negative_weight * (len(y) - y.sum()) / max(1, y.sum())
    seg = LogisticRegression(C=options.c, max_iter=2000, solver="liblinear", random_state=seed)
    seg.fit(_matrix(seg_vectors), y, sample_weight=np.where(y == 1, pos_w, options.negative_weight))

    meta: dict[str, Any] = {
        "n_features": features.N_FEATURES,
        "rule_ids": list(features.RULE_IDS),
        "seed": seed,
        "c": options.c,
        "train_rows": len(fit),
        "segment_examples": len(y),
    }
    doc_w, seg_w = doc.coef_[0].astype(np.float32), seg.coef_[0].astype(np.float32)
    doc_b, seg_b = float(doc.intercept_[0]), float(seg.intercept_[0])
    raw = InjectionModel(doc_w, doc_b, seg_w, seg_b, (1.0, 0.0, 0.0, 0.0, 0.0, 0.0), meta)

    calib_rows = [p.row for p in calib]
    texts = [(r["text"], int(r["label"]), channel_of(r)) for r in calib_rows]
    texts += [(t, label, "tool_result") for t, label, _ in joined_texts(calib_rows, rng, options.joins)]
    margins = [raw_margins(t, raw) for t, _, _ in texts]
    x = np.array([_features(m) for m in margins])
    y_cal = np.array([label for _, label, _ in texts])
    combiner = LogisticRegression(C=1e4, solver="lbfgs", max_iter=5000)
    # Evidence may only raise a score: a column whose sign comes out negative is dropped
    # (fixed at 0) and the rest refitted.
    columns = [0, 1, 2]
    while True:
        combiner.fit(x[:, columns], y_cal)
        coef = dict(zip(columns, (float(v) for v in combiner.coef_[0]), strict=True))
        wrong = [c for c in columns if coef[c] < 0]
        if not wrong:
            break
        columns.remove(wrong[0])
    a, b, c = (coef.get(i, 0.0) for i in range(3))
    d = float(combiner.intercept_[0])
    meta["length_unit"] = LENGTH_UNIT
    flat = InjectionModel(doc_w, doc_b, seg_w, seg_b, (a, b, c, 0.0, 0.0, d), meta)
    # The length discount, from benign tool-output calibration texts and joins of those that pass.
    benign = [t for t, label, ch in texts[: len(calib_rows)] if not label and ch == "tool_result"]
    benign_m = [raw_margins(t, flat) for t in benign]
    cut = float(np.quantile(np.asarray([bm.best for bm in benign_m]), 1.0 - options.flag_fpr))
    passing = [t for t, bm in zip(benign, benign_m, strict=True) if bm.best < cut]
    points = [(bm.best, bm.n_chars) for bm in benign_m]
    for t in passing_joins(passing, rng, options.joins):
        jm = raw_margins(t, flat)
        points.append((jm.best, jm.n_chars))
    e = length_coefficient(points, options.length_fpr)
    full = [a, b, c, e, 0.0]
    model = InjectionModel(doc_w, doc_b, seg_w, seg_b, (a, b, c, e, 0.0, d), meta)
    margins = [raw_margins(t, model) for t, _, _ in texts]
    scores = [combined_score(m, model) for m in margins]
    thresholds: dict[str, dict[str, float]] = {}
    for channel in ("tool_result", "prompt"):
        negatives = [
            s for s, (_, label, ch) in zip(scores, texts, strict=True) if not label and ch == channel
        ]
        prompt = channel == "prompt"
        flag = _quantile_threshold(negatives, options.prompt_flag_fpr if prompt else options.flag_fpr)
        block = _quantile_threshold(negatives, options.prompt_block_fpr if prompt else options.block_fpr)
        if not prompt and options.join_flag:
            # A long benign result is a join of documents that each pass: per source, joins of 16
            # such documents are held to the same rate (the highest of the per-source quantiles).
            cal_benign = [
                r
                for r, s in zip(calib_rows, scores[: len(calib_rows)], strict=True)
                if not r["label"] and channel_of(r) == "tool_result" and s < flag
            ]
            for group in source_joins(cal_benign, rng, options.joins):
                group_scores = [combined_score(raw_margins(t, model), model) for t in group]
                flag = max(flag, _quantile_threshold(group_scores, options.flag_fpr))
                if log:
                    print(
                        f"  source joins: {len(group)}, top {max(group_scores):.3f}, flag {flag:.4f}",
                        file=sys.stderr,
                    )
                block = max(block, flag)
        if channel == "prompt":  # prompts are instructions by design: never more sensitive than tool results
            flag = max(flag, thresholds["tool_result"]["flag"])
            block = max(block, thresholds["tool_result"]["block"])
        thresholds[channel] = {
            "flag": round(min(flag, 0.999), 4),
            "block": round(min(max(block, flag), 0.999), 4),
        }
    meta["thresholds"] = thresholds
    meta["threshold"] = thresholds["tool_result"]["flag"]
    meta["combiner"] = [round(v, 4) for v in (*full, float(combiner.intercept_[0]))]
    if log:
        tool_neg = sum(1 for _, label, ch in texts if not label and ch == "tool_result")
        for channel in ("tool_result", "prompt"):
            top = sorted(
                (
                    (sc, t)
                    for sc, (t, label, ch) in zip(scores, texts, strict=True)
                    if not label and ch == channel
                ),
                reverse=True,
            )[:4]
            for sc, t in top:
                print(f"  highest {channel} negative {sc:.3f}: {t[:90]!r}", file=sys.stderr)
        print(
            f"fit {len(fit)} rows, {int(y.sum())}/{len(y)} positive segments; calibration {len(texts)} texts "
            f"({tool_neg} tool-output negatives); combiner {meta['combiner']}; thresholds {thresholds}",
            file=sys.stderr,
        )
    return model
