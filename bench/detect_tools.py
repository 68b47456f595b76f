"""Benchmark the tool-poisoning detector: quality on the dev split, false positives on real
tool definitions from packages the model never saw, and scan time per tool.

    .venv/bin/python bench/detect_tools.py [--dev PATH] [--real PATH] [--threshold 0.5] [--show-misses]

Prints numbers only; nothing here asserts, so it can track regressions without flaking.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

from mcpwarden.detect.tools import DEFAULT_THRESHOLD, scan_tool
from mcpwarden.detect.tools.model import ARTIFACT

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "data" / "tools" / "dev.jsonl"
REAL = ROOT / "tests" / "data" / "real_tools.jsonl"


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def trained_packages() -> set[str]:
    raw = resources.files("mcpwarden.detect.models").joinpath(ARTIFACT).read_text(encoding="utf-8")
    return set(json.loads(raw)["training"]["real_packages"])


def metrics(labels: list[int], flags: list[bool]) -> dict[str, float]:
    tp = sum(1 for y, f in zip(labels, flags, strict=True) if y and f)
    fn = sum(1 for y, f in zip(labels, flags, strict=True) if y and not f)
    fp = sum(1 for y, f in zip(labels, flags, strict=True) if not y and f)
    tn = sum(1 for y, f in zip(labels, flags, strict=True) if not y and not f)
    tpr = tp / (tp + fn) if tp + fn else float("nan")
    fpr = fp / (fp + tn) if fp + tn else float("nan")
    precision = tp / (tp + fp) if tp + fp else float("nan")
    f1 = 2 * precision * tpr / (precision + tpr) if tp else 0.0
    return {"tp": tp, "fn": fn, "fp": fp, "tn": tn, "tpr": tpr, "fpr": fpr, "precision": precision, "f1": f1}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=DEV)
    parser.add_argument("--real", type=Path, default=REAL)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--show-misses", action="store_true", help="print every missed or false-positive row")
    parser.add_argument("--repeat", type=int, default=5, help="timing passes over all tools (default 5)")
    args = parser.parse_args()

    dev = load(args.dev)
    scores = [scan_tool(r["tool"]).score for r in dev]
    flags = [s >= args.threshold for s in scores]
    labels = [int(r["label"]) for r in dev]
    m = metrics(labels, flags)
    print(f"# Tool-poisoning detector (threshold {args.threshold})\n")
    print(f"dev: {args.dev.name}, {len(dev)} tools ({sum(labels)} poisoned)\n")
    print("| set | TPR | FPR | precision | F1 | TP | FN | FP | TN |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| dev overall | {m['tpr']:.3f} | {m['fpr']:.3f} | {m['precision']:.3f} | {m['f1']:.3f} "
        f"| {m['tp']} | {m['fn']} | {m['fp']} | {m['tn']} |"
    )

    by_type: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(dev):
        by_type[r.get("attack_type") or "benign"].append(i)
    print("\n| attack_type | n | detected | TPR |")
    print("|---|---|---|---|")
    for attack, idx in sorted(by_type.items()):
        hit = sum(1 for i in idx if flags[i])
        rate = hit / len(idx)
        label = "benign (flagged = FP)" if attack == "benign" else attack
        print(f"| {label} | {len(idx)} | {hit} | {rate:.3f} |")

    real_rows: list[dict[str, Any]] = load(args.real) if args.real.exists() else []
    if real_rows:
        seen = trained_packages()
        held = [r for r in real_rows if r["package"] not in seen]
        trained = [r for r in real_rows if r["package"] in seen]
        print("\n| real tools | packages | tools | flagged | FPR |")
        print("|---|---|---|---|---|")
        for name, rows in (("held out of training", held), ("used in training", trained)):
            fl = [r for r in rows if scan_tool(r["tool"]).score >= args.threshold]
            packages = len({r["package"] for r in rows})
            rate = len(fl) / len(rows) if rows else float("nan")
            print(f"| {name} | {packages} | {len(rows)} | {len(fl)} | {rate:.3f} |")
            if args.show_misses:
                for r in fl:
                    print(f"|   FP | {r['package']} | {r['tool'].get('name')} | | |")

    tools = [r["tool"] for r in dev] + [r["tool"] for r in real_rows]
    for t in tools:
        scan_tool(t)
    times: list[float] = []
    for _ in range(args.repeat):
        for t in tools:
            start = time.perf_counter()
            scan_tool(t)
            times.append(time.perf_counter() - start)
    times.sort()
    p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
    print(
        f"\nscan time per tool over {len(tools)} tools x {args.repeat}: "
        f"median {statistics.median(times) * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms, "
        f"max {times[-1] * 1e3:.3f} ms"
    )

    if args.show_misses:
        print("\nmissed / false positives on dev:")
        for r, s, f in zip(dev, scores, flags, strict=True):
            if bool(r["label"]) != f:
                kind = "MISS" if r["label"] else "FP"
                desc = str(r["tool"].get("description", ""))[:160].replace("\n", " ")
                print(
                    f"- {kind} {r['id']} [{r.get('attack_type')}] {r['tool'].get('name')} ({s:.2f}): {desc}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
