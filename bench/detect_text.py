"""Detection quality and speed of `mcpwarden.detect.text.scan_text`.

Prints TPR, FPR, precision and F1 on the dev split overall, per kind and per carrier,
and throughput on one core (documents per second, median latency for 1 KB and 100 KB
documents). Dev numbers flatter the model (dev shares sources with training);
`bench/detect_loso.py` measures generalization and `bench/detect_cost.py` cost by size.

`--model PATH` scores with another linear artifact (one written by
`scripts/train_injection_model.py --out PATH`) and its own flag threshold.

Usage: .venv/bin/python bench/detect_text.py [--dev PATH] [--threshold T] [--misses N] [--model PATH]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mcpwarden.detect.text import scan_text as shipped_scan_text  # noqa: E402
from mcpwarden.detect.text.model import InjectionModel  # noqa: E402
from mcpwarden.detect.text.scan import default_threshold  # noqa: E402

scan_text = shipped_scan_text

DEFAULT_DEV = ROOT.parent / "shared" / "data" / "injection" / "dev.jsonl"


def _metrics(pairs: list[tuple[int, bool]]) -> str:
    tp = sum(1 for y, f in pairs if y and f)
    fn = sum(1 for y, f in pairs if y and not f)
    fp = sum(1 for y, f in pairs if not y and f)
    tn = sum(1 for y, f in pairs if not y and not f)
    parts = [f"n={len(pairs):4d}"]
    if tp + fn:
        parts.append(f"TPR={tp / (tp + fn):.3f}")
    if fp + tn:
        parts.append(f"FPR={fp / (fp + tn):.3f}")
    if tp + fp and tp + fn:
        precision = tp / (tp + fp)
        recall = tp / (tp + fn)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        parts.append(f"precision={precision:.3f} F1={f1:.3f}")
    return "  ".join(parts)


def _latency(text: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        scan_text(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=DEFAULT_DEV)
    parser.add_argument("--threshold", type=float, default=None, help="default: the model's operating point")
    parser.add_argument("--misses", type=int, default=0, help="print N misses and false alarms")
    parser.add_argument("--model", type=Path, default=None, help="a linear artifact (default: shipped)")
    args = parser.parse_args()
    global scan_text
    if args.model is not None:
        model = InjectionModel.load(args.model)
        scan_text = functools.partial(shipped_scan_text, model=model)
        if args.threshold is None:
            args.threshold = model.flag_threshold("tool_result")
    if args.threshold is None:
        args.threshold = default_threshold()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    rows = [json.loads(line) for line in args.dev.read_text(encoding="utf-8").split("\n") if line.strip()]
    results = [(r, scan_text(r["text"], threshold=args.threshold)) for r in rows]
    print(f"dev: {args.dev}  threshold={args.threshold}")
    print(f"  overall              {_metrics([(r['label'], d.flagged) for r, d in results])}")
    for key in ("kind", "carrier"):
        groups: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        for r, d in results:
            groups[r[key]].append((r["label"], d.flagged))
        for name in sorted(groups):
            print(f"  {key}={name:15s}  {_metrics(groups[name])}")
    indirect = [(r["label"], d.flagged) for r, d in results if r["kind"] == "indirect"]
    negatives = [(r["label"], d.flagged) for r, d in results if r["kind"] in {"benign", "hard_negative"}]
    print(f"  indirect vs benign+hard_negative: {_metrics(indirect + negatives)}")
    sources: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    for r, d in results:
        sources[r["id"].split("-")[0]].append((r["label"], d.flagged))
    for name in sorted(sources):
        print(f"  source={name:14s}  {_metrics(sources[name])}")

    if args.misses:
        print("missed positives:")
        for r, d in [x for x in results if x[0]["label"] and not x[1].flagged][: args.misses]:
            print(f"  {r['id']} {r['kind']}/{r['carrier']} score={d.score:.3f}: {r['text'][-160:]!r}")
        print("false alarms:")
        for r, d in [x for x in results if not x[0]["label"] and x[1].flagged][: args.misses]:
            print(f"  {r['id']} {r['kind']}/{r['carrier']} score={d.score:.3f}: {r['text'][:160]!r}")

    texts = [r["text"] for r in rows]
    scan_text(texts[0])  # load the model outside the timing
    start = time.perf_counter()
    for t in texts:
        scan_text(t)
    elapsed = time.perf_counter() - start
    chars = sum(len(t) for t in texts)
    rate = f"{len(texts) / elapsed:.0f} docs/s over dev, {chars / elapsed / 1e6:.2f} MB/s"
    print(f"throughput (one core): {rate}")
    prose = " ".join(r["text"] for r in rows if not r["label"])
    doc_1k = prose[:1024]
    doc_100k = (prose * (1 + 102400 // max(1, len(prose))))[:102400]
    print(f"median latency 1 KB:   {_latency(doc_1k, 200) * 1e3:.2f} ms")
    print(f"median latency 100 KB: {_latency(doc_100k, 10) * 1e3:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
