"""Leave-one-source-out evaluation of the text injection detector.

For every source family in data/injection/ (the shared sources such as bipia, deepset,
garak, owasp, and the generated families: one per benign carrier, one per attack
language, four for English attack framings), a model is trained exactly as
`make models` trains the shipped one, but on every family except that one, and scored on
the family left out. Each row is thus scored by a model that never saw its source. From
those out-of-family scores:

* TPR at 1% and 0.1% FPR (pooled; thresholds taken from the pooled out-of-family negatives);
* TPR and FPR at each fold model's own flag threshold (what a deployment would see);
* FPR per length bucket (<200, 200-1k, 1k-10k, 10k-100k) and per carrier;
* FPR when 1, 2, 4, 8 or 16 benign documents of the left-out family are joined, drawn from
  all of them and (what the issue measures) from those that each pass on their own;
* recall of the left-out attacks alone and padded among 16 benign documents (~10-40 KB);
* the worst attack family (lowest TPR) and the worst benign family (highest FPR).

Usage: nice -n 10 .venv/bin/python bench/detect_loso.py [--families a,b] [--json OUT] [--joins N]
Takes about half a minute of CPU per family.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import injection_data as idata  # noqa: E402
import injection_training as tr  # noqa: E402

from mcpwarden.detect.text.model import InjectionModel  # noqa: E402
from mcpwarden.detect.text.scan import scan_text  # noqa: E402

BUCKETS = ((0, 200, "<200"), (200, 1_000, "200-1k"), (1_000, 10_000, "1k-10k"), (10_000, 100_001, "10k-100k"))
JOIN_SIZES = (1, 2, 4, 8, 16)


def _bucket(n: int) -> str:
    for lo, hi, name in BUCKETS:
        if lo <= n < hi:
            return name
    return ">100k"


def _tpr_at_fpr(pos: np.ndarray, neg: np.ndarray, fpr: float) -> tuple[float, float]:
    threshold = float(np.quantile(neg, 1.0 - fpr)) if len(neg) else 0.5
    return float((pos > threshold).mean()) if len(pos) else float("nan"), threshold


def train_fold(
    family: str,
    rows: list[dict[str, Any]],
    prepared: list[tr.Prepared],
    joins: int,
    options: tr.Options | None = None,
) -> tuple[InjectionModel, list[dict[str, Any]], list[dict[str, Any]]]:
    """The linear model trained as `make models` trains it but without `family`; (model, the
    family's rows, the rows kept). Shared by `detect_minilm_loso.py`."""
    options = options or tr.Options()
    keep = [i for i, r in enumerate(rows) if r["family"] != family]
    held = [r for r in rows if r["family"] == family]
    kept_rows = [rows[i] for i in keep]
    fit_idx, cal_idx = idata.split_rows(kept_rows, options.calib_fraction, tr.SEED + options.split_offset)
    model = tr.train(
        [prepared[keep[i]] for i in fit_idx],
        [prepared[keep[i]] for i in cal_idx],
        replace(options, joins=joins),
        tr.SEED,
        log=False,
    )
    return model, held, kept_rows


def evaluate(
    family: str,
    rows: list[dict[str, Any]],
    prepared: list[tr.Prepared],
    joins: int,
    options: tr.Options | None = None,
) -> dict[str, Any]:
    """Train without `family`, score its rows, joins of its benign rows and its padded attacks."""
    model, held, kept_rows = train_fold(family, rows, prepared, joins, options)
    out = score_family(
        family,
        held,
        kept_rows,
        lambda text, channel: scan_text(text, model=model, channel=channel).score,  # type: ignore[arg-type]
        model.flag_threshold,
    )
    out["thresholds"] = model.meta["thresholds"]
    return out


def score_family(
    family: str,
    held: list[dict[str, Any]],
    kept_rows: list[dict[str, Any]],
    score: Callable[[str, str], float],
    threshold: Callable[[str], float],
) -> dict[str, Any]:
    """Score the left-out rows, joins of its benign rows and its attacks padded among kept
    benign documents with `score(text, channel)`; shared by `detect_minilm_loso.py`."""
    rng = random.Random(tr.SEED)
    out: dict[str, Any] = {"family": family, "rows": []}
    for r in held:
        channel = idata.channel_of(r)
        out["rows"].append(
            {
                "label": r["label"],
                "kind": r["kind"],
                "carrier": r["carrier"],
                "channel": channel,
                "len": len(r["text"]),
                "score": score(r["text"], channel),
                "threshold": threshold(channel),
            }
        )
    benign_tool = [r["text"] for r in held if not r["label"] and idata.channel_of(r) == "tool_result"]
    flag = threshold("tool_result")
    out["joins"] = {}
    out["joins_passing"] = {}
    passing = [t for t in benign_tool if score(t, "tool_result") < flag]
    for key, pool in (("joins", benign_tool), ("joins_passing", passing)):
        if not pool:
            continue
        for k in JOIN_SIZES:
            texts = ["\n\n".join(rng.choices(pool, k=k)) for _ in range(max(16, 64 // k))]
            out[key][k] = [(len(t), score(t, "tool_result"), flag) for t in texts]
    attacks = [r["text"] for r in held if r["label"]]
    filler = [r["text"] for r in kept_rows if not r["label"] and idata.channel_of(r) == "tool_result"]
    padded = []
    for text in rng.sample(attacks, min(40, len(attacks))):
        docs = rng.sample(filler, 16)
        docs.insert(rng.randrange(17), text)
        joined = "\n\n".join(docs)
        padded.append((score(text, "tool_result"), score(joined, "tool_result"), len(joined), flag))
    out["padded"] = padded
    return out


def report(results: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [r for res in results for r in res["rows"]]
    pos = np.array([r["score"] for r in rows if r["label"]])
    neg = np.array([r["score"] for r in rows if not r["label"]])
    summary: dict[str, Any] = {}
    for fpr in (0.01, 0.001):
        tpr, thr = _tpr_at_fpr(pos, neg, fpr)
        summary[f"tpr_at_{fpr}"] = (round(tpr, 3), round(thr, 4))
    indirect = np.array([r["score"] for r in rows if r["label"] and r["kind"] == "indirect"])
    tool_neg = np.array([r["score"] for r in rows if not r["label"] and r["channel"] == "tool_result"])
    for fpr in (0.01, 0.001):
        summary[f"indirect_tpr_at_{fpr}_tool_fpr"] = round(_tpr_at_fpr(indirect, tool_neg, fpr)[0], 3)
    at_own = [(r["label"], r["score"] >= r["threshold"]) for r in rows]
    summary["tpr_at_fold_threshold"] = round(float(np.mean([f for y, f in at_own if y])), 3)
    summary["fpr_at_fold_threshold"] = round(float(np.mean([f for y, f in at_own if not y])), 3)
    for kind in ("direct", "indirect", "jailbreak"):
        flags = [r["score"] >= r["threshold"] for r in rows if r["label"] and r["kind"] == kind]
        summary[f"tpr_{kind}"] = (round(float(np.mean(flags)), 3), len(flags)) if flags else None
    for kind in ("benign", "hard_negative"):
        flags = [r["score"] >= r["threshold"] for r in rows if not r["label"] and r["kind"] == kind]
        summary[f"fpr_{kind}"] = (round(float(np.mean(flags)), 3), len(flags)) if flags else None
    buckets: dict[str, list[bool]] = defaultdict(list)
    carriers: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        if not r["label"]:
            buckets[_bucket(r["len"])].append(r["score"] >= r["threshold"])
            carriers[r["carrier"]].append(r["score"] >= r["threshold"])
    joins: dict[int, list[bool]] = defaultdict(list)
    for res in results:
        for k, items in res["joins"].items():
            for length, score, thr in items:
                joins[int(k)].append(score >= thr)
                if int(k) > 1:
                    buckets[_bucket(length)].append(score >= thr)
    summary["fpr_by_length"] = {b: (round(float(np.mean(v)), 4), len(v)) for b, v in sorted(buckets.items())}
    summary["fpr_by_carrier"] = {
        c: (round(float(np.mean(v)), 4), len(v)) for c, v in sorted(carriers.items())
    }
    summary["fpr_joined"] = {k: (round(float(np.mean(v)), 4), len(v)) for k, v in sorted(joins.items())}
    passing: dict[int, list[bool]] = defaultdict(list)
    for res in results:
        for k, items in res.get("joins_passing", {}).items():
            passing[int(k)].extend(score >= thr for _, score, thr in items)
    summary["fpr_joined_passing"] = {
        k: (round(float(np.mean(v)), 4), len(v)) for k, v in sorted(passing.items())
    }
    padded = [p for res in results for p in res["padded"]]
    summary["padded_recall"] = {
        "alone": round(float(np.mean([a >= t for a, _, _, t in padded])), 3),
        "padded_16_docs": round(float(np.mean([b >= t for _, b, _, t in padded])), 3),
        "median_padded_chars": int(np.median([n for _, _, n, _ in padded])) if padded else 0,
        "n": len(padded),
    }
    per_family = {}
    for res in results:
        fam_rows = res["rows"]
        p = [r["score"] >= r["threshold"] for r in fam_rows if r["label"]]
        n = [r["score"] >= r["threshold"] for r in fam_rows if not r["label"]]
        per_family[res["family"]] = {
            "tpr": round(float(np.mean(p)), 3) if p else None,
            "fpr": round(float(np.mean(n)), 3) if n else None,
            "pos": len(p),
            "neg": len(n),
        }
    summary["per_family"] = per_family
    with_pos = {f: v for f, v in per_family.items() if v["tpr"] is not None}
    with_neg = {f: v for f, v in per_family.items() if v["fpr"] is not None}
    summary["worst_attack_family"] = min(with_pos.items(), key=lambda kv: kv[1]["tpr"]) if with_pos else None
    summary["worst_benign_family"] = max(with_neg.items(), key=lambda kv: kv[1]["fpr"]) if with_neg else None
    return summary


def run_folds(
    families: list[str],
    partial: Path | None,
    family_of: Callable[[dict[str, Any]], str],
    run: Callable[[str], dict[str, Any]],
    describe: Callable[[str, dict[str, Any]], str],
) -> list[dict[str, Any]]:
    """Each family's fold, resumed from the `partial` JSON-lines file (folds take minutes each
    on this machine, so an interrupted run keeps what it finished). A report-only caller passes
    no families and gets back what the file holds."""
    results: list[dict[str, Any]] = []
    if partial and partial.exists():
        results = [json.loads(line) for line in partial.read_text("utf-8").split("\n") if line]
    done = {family_of(res) for res in results}
    for family in families:
        if family in done:
            continue
        t0 = time.perf_counter()
        res = run(family)
        results.append(res)
        if partial:
            with partial.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(res) + "\n")
        print(f"{describe(family, res)} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", help="comma-separated subset (default: all)")
    parser.add_argument("--joins", type=int, default=120, help="joined texts for each fold's combiner")
    parser.add_argument("--json", type=Path, help="write the per-row results and the summary here")
    parser.add_argument(
        "--partial", type=Path, help="append each fold as it finishes (JSON lines); resume from it"
    )
    tr.add_recipe_arguments(parser)
    args = parser.parse_args()
    options = tr.recipe_options(args)
    rows = idata.load_rows(readmes=options.readmes)
    start = time.perf_counter()
    prepared = [tr.prepare(r) for r in rows]
    print(f"prepared {len(rows)} rows in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    families = sorted({r["family"] for r in rows})
    if args.families:
        families = [f for f in families if f in set(args.families.split(","))]

    def describe(family: str, res: dict[str, Any]) -> str:
        fam = report([res])["per_family"][family]
        return f"{family:32s} tpr={fam['tpr']} fpr={fam['fpr']}"

    results = run_folds(
        families,
        args.partial,
        lambda res: str(res["family"]),
        lambda family: evaluate(family, rows, prepared, args.joins, options),
        describe,
    )
    summary = report(results)
    print(json.dumps({k: v for k, v in summary.items() if k != "per_family"}, indent=1))
    print(json.dumps(summary["per_family"], indent=1))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "results": results}, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
