"""The shipped text injection model on committed rows it is never trained on.

`data/injection/handwritten-heldout.jsonl` (hand-written user prompts full of trigger words and
benign text in eight languages, all negatives) and `data/injection/handwritten.jsonl`
(hand-written quiet, embedded, direct and non-English attacks and benign hard negatives) are not
in `manifest.json`, so no build reads them: every shipped model, before or after a data change,
meets them unseen. Prints the flag rate at the model's own per-channel flag threshold, per
family, language and carrier. Any JSON-lines file with the training row schema can be given
instead.

With `--small-model [DIR]` (the shipped small-model folder, or one written by
`scripts/minilm/build.py --out DIR`) the same rows are also scored by the cascade and by the
small model alone (its best window logit), and the three are compared by rank: AUC and TPR
at 1% / 5% / 10% FPR over all hand-written attacks against all hand-written benign rows. The
ranking is what says whether a tier generalizes; flag rates depend on where the threshold sits.

`--model PATH` scores with another linear artifact (one written by
`scripts/train_injection_model.py --out PATH`) instead of the shipped one; `--split NAME` keeps
only rows whose `split` field is NAME (the held-out third of data/injection/real-readmes.jsonl
is `--split eval`). Rows are also grouped by length (<200, 200-1k, 1k-10k, 10k+ characters).
Each row is judged at its channel's threshold (`prompt` for user prompts, `tool_result` for
the rest); `--channel` judges every row at one channel's, e.g. user prompts relayed as a tool's
output.

Usage: .venv/bin/python bench/detect_heldout.py [PATH ...] [--small-model [DIR]] [--model PATH] [--split NAME]
       [--channel auto|tool_result|prompt]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mcpwarden.detect.text.minilm import SmallModel, models_folder  # noqa: E402
from mcpwarden.detect.text.model import InjectionModel, default_model  # noqa: E402
from mcpwarden.detect.text.normalize import normalize  # noqa: E402
from mcpwarden.detect.text.scan import scan_text  # noqa: E402

DEFAULT = [
    ROOT / "data" / "injection" / "handwritten.jsonl",
    ROOT / "data" / "injection" / "handwritten-heldout.jsonl",
]
FPRS = (0.01, 0.05, 0.10)
LENGTHS = ((200, "<200"), (1000, "200-1k"), (10000, "1k-10k"))


def length_bucket(text: str) -> str:
    return next((name for limit, name in LENGTHS if len(text) < limit), "10k+")


# A link in the text: real documentation and code hold far more of them than the committed
# benign corpus, where they sit mostly in attacks (exfiltration targets), so false alarms are
# reported with and without one.
_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)


def has_link(text: str) -> str:
    return "yes" if _LINK.search(text) else "no"


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability that an attack outranks a benign row (ties count half)."""
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(greater + 0.5 * ties)


def tpr_at_fpr(pos: np.ndarray, neg: np.ndarray, fpr: float) -> float:
    threshold = float(np.quantile(neg, 1.0 - fpr))
    return float((pos > threshold).mean())


def load(paths: list[Path]) -> list[dict[str, Any]]:
    rows = []
    for path in paths:
        rows += [json.loads(line) for line in path.read_text("utf-8").split("\n") if line.strip()]
    return rows


def flag_rates(rows: list[dict[str, Any]], flags: list[bool]) -> dict[str, list[bool]]:
    groups: dict[str, list[bool]] = defaultdict(list)
    for row, flagged in zip(rows, flags, strict=True):
        label = "attack" if row["label"] else "benign"
        for key in (
            f"{label} all",
            f"{label} family={row.get('family', '?')}",
            f"{label} lang={row.get('lang', '?')}",
            f"{label} carrier={row['carrier']}",
            f"{label} length={length_bucket(row['text'])}",
            f"{label} link={has_link(row['text'])}",
        ):
            groups[key].append(flagged)
    return groups


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=DEFAULT)
    parser.add_argument("--small-model", nargs="?", type=Path, const=models_folder(), default=None)
    parser.add_argument("--model", type=Path, default=None, help="a linear artifact (default: shipped)")
    parser.add_argument("--split", default=None, help="only rows whose `split` field is this")
    parser.add_argument(
        "--channel",
        choices=("auto", "tool_result", "prompt"),
        default="auto",
        help="threshold channel (auto: prompt for user_prompt rows, tool_result for the rest)",
    )
    args = parser.parse_args()
    model = InjectionModel.load(args.model) if args.model else default_model()
    small = SmallModel(args.small_model) if args.small_model else None
    rows = load(args.paths)
    if args.split is not None:
        rows = [r for r in rows if r.get("split") == args.split]
    columns: dict[str, list[bool]] = {"linear": []}
    scores: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        channel = args.channel
        if channel == "auto":
            channel = "prompt" if row["carrier"] == "user_prompt" else "tool_result"
        linear = scan_text(row["text"], model=model, channel=channel)
        columns["linear"].append(linear.flagged)
        scores["linear"].append(linear.score)
        if small is not None:
            cascade = scan_text(row["text"], model=model, channel=channel, small_model=small)
            columns.setdefault("cascade", []).append(cascade.flagged)
            scores["cascade"].append(cascade.score)
            scores["model alone"].append(small.text_logit(normalize(row["text"]).text))
    tables = {name: flag_rates(rows, flags) for name, flags in columns.items()}
    names = list(tables)
    print(f"{'group':40s} {'n':>4s}  " + "  ".join(f"{n:>8s}" for n in names))
    for key in sorted(tables["linear"]):
        what = "TPR" if key.startswith("attack") else "FPR"
        rates = [sum(tables[n][key]) / len(tables[n][key]) for n in names]
        cells = "  ".join(f"{what}={r:.3f}" for r in rates)
        print(f"{key:40s} {len(tables['linear'][key]):4d}  {cells}")
    labels = np.array([bool(r["label"]) for r in rows])
    if labels.all() or not labels.any():
        return 0  # a ranking needs both attacks and benign rows
    print()
    print(f"{'ranking':12s} {'AUC':>6s}  " + "  ".join(f"TPR@{f:.0%}FPR" for f in FPRS))
    for name, values in scores.items():
        s = np.array(values)
        pos, neg = s[labels], s[~labels]
        cells = "  ".join(f"{tpr_at_fpr(pos, neg, f):11.3f}" for f in FPRS)
        print(f"{name:12s} {auc(pos, neg):6.3f}  {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
