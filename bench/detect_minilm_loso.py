"""Leave-one-source-out of the cascade (linear tier + MiniLM tier) against the linear tier alone.

For each family left out, both tiers are trained without it exactly as `make models` trains
the shipped ones (the linear fold as in `detect_loso.py`; the small model fine-tuned by
`scripts/minilm/build.py` on the same fit rows and its cascade calibrated on the same
calibration rows), then the left-out rows, joins of its benign documents and its attacks
padded among 16 documents are scored twice in the same run: by the fold's linear tier
alone and by the fold's cascade. Both go through `detect_loso.report`, so every measure
(TPR at 1% and 0.1% FPR, FPR per length bucket and carrier, joins, padded recall, worst
family) is comparable column to column.

Usage: nice -n 10 .venv/bin/python bench/detect_minilm_loso.py [--families a,b] [--json OUT]
       [--partial FILE]   (needs `make train-venv`; about 4 minutes per family on two cores)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "scripts" / "minilm"))
sys.path.insert(0, str(ROOT / "bench"))

import build as minilm_build  # noqa: E402
import injection_data as idata  # noqa: E402
import injection_training as tr  # noqa: E402
from detect_loso import report, run_folds, score_family, train_fold  # noqa: E402

from mcpwarden.detect.text.minilm import TOKENIZER_FILE, SmallModel, models_folder  # noqa: E402
from mcpwarden.detect.text.scan import scan_text  # noqa: E402

CACHE = ROOT / "var" / "minilm-bottom-cache"  # bottom-layer outputs shared by the folds (ignored)
SHARED = "agentdojo,atlas,bipia,deepset,garak,gptfuzz,owasp,purplellama"


def evaluate(
    family: str, rows: list[dict[str, Any]], prepared: list[tr.Prepared], joins: int
) -> dict[str, Any]:
    """Train both tiers without `family`; its rows scored by each: {"linear": res, "cascade": res}."""
    linear, held, kept_rows = train_fold(family, rows, prepared, joins)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        minilm_build.build(
            folder, kept_rows, linear, log=False, tokenizer_from=models_folder() / TOKENIZER_FILE, cache=CACHE
        )
        small = SmallModel(folder)
    out: dict[str, Any] = {}
    for name, tier in (("linear", None), ("cascade", small)):

        def score(text: str, channel: str, tier: SmallModel | None = tier) -> float:
            return scan_text(text, model=linear, channel=channel, small_model=tier).score  # type: ignore[arg-type]

        out[name] = score_family(family, held, kept_rows, score, linear.flag_threshold)
    out["bands"] = {ch: asdict(band) for ch, band in small.cascade.bands.items()}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=SHARED, help=f"comma-separated (default: {SHARED})")
    parser.add_argument("--joins", type=int, default=120)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--partial", type=Path, help="append each fold as it finishes; resume from it")
    parser.add_argument(
        "--report-only", action="store_true", help="summarize the --partial file, train nothing"
    )
    args = parser.parse_args()
    rows = idata.load_rows()
    prepared = [] if args.report_only else [tr.prepare(r) for r in rows]
    known = {r["family"] for r in rows}
    families = [f for f in args.families.split(",") if f in known]  # in the order given

    def describe(family: str, res: dict[str, Any]) -> str:
        fams = {name: report([res[name]])["per_family"][family] for name in ("linear", "cascade")}
        return f"{family:14s} linear {fams['linear']} cascade {fams['cascade']}"

    results = run_folds(
        [] if args.report_only else families,
        args.partial,
        lambda res: str(res["linear"]["family"]),
        lambda family: evaluate(family, rows, prepared, args.joins),
        describe,
    )
    summary = {name: report([res[name] for res in results]) for name in ("linear", "cascade")}
    for name in ("linear", "cascade"):
        print(f"== {name}")
        print(json.dumps(summary[name], indent=1))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "results": results}, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
