"""Train the tool-poisoning detector's linear model and write the shipped artifact.

Reproducible: fixed seed, deterministic solver, sorted inputs; the same data gives the same
artifact byte for byte. Uses only the train split of the labelled tool data plus real tool
definitions from published MCP servers (tests/data/real_tools.jsonl) whose package is not
in the held-out set, so the benchmark can report false positives on unseen real servers.

    .venv/bin/python scripts/train_tool_model.py   # writes detect/models/tools_linear_v1.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from mcpwarden.detect.tools.model import (
    ARTIFACT,
    FEATURE_RULES,
    HASH_DIM,
    SHAPE_FEATURES,
    dense_features,
    hashed_indices,
)
from mcpwarden.detect.tools.scanner import analyze_tool

SEED = 20261127
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TRAIN = ROOT.parent / "shared" / "data" / "tools" / "train.jsonl"
DEFAULT_REAL = ROOT / "tests" / "data" / "real_tools.jsonl"
DEFAULT_OUT = ROOT / "src" / "mcpwarden" / "detect" / "models" / ARTIFACT
# Hashed wording features get a smaller scale than the rule features, i.e. stronger
# regularization: wording should refine the rules, not replace them.
HASHED_SCALE = 0.5


def is_held_out(package: str) -> bool:
    """About a third of real packages never reach training; the benchmark measures FPR on them."""
    return int(hashlib.sha256(package.encode()).hexdigest(), 16) % 3 == 0


def load_rows(train: Path, real: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for line in train.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        rows.append({"tool": r["tool"], "label": int(r["label"]), "group": f"data:{r['server']}"})
    if real.exists():
        for line in real.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            if not is_held_out(r["package"]):
                rows.append({"tool": r["tool"], "label": 0, "group": f"real:{r['package']}"})
    return rows


def featurize(rows: list[dict[str, Any]]) -> tuple[sparse.csr_matrix, np.ndarray]:
    n_dense = len(FEATURE_RULES) + len(SHAPE_FEATURES)
    data: list[float] = []
    indices: list[int] = []
    indptr = [0]
    for r in rows:
        analysis = analyze_tool(r["tool"])
        dense = dense_features(analysis)
        for j, v in enumerate(dense):
            if v:
                indices.append(j)
                data.append(v)
        idx = hashed_indices(analysis.text)
        for i in idx:
            indices.append(n_dense + i)
            data.append(HASHED_SCALE / np.sqrt(len(idx)))
        indptr.append(len(indices))
    x = sparse.csr_matrix((data, indices, indptr), shape=(len(rows), n_dense + HASH_DIM))
    y = np.array([r["label"] for r in rows])
    return x, y


def fit(x: sparse.csr_matrix, y: np.ndarray, c: float) -> LogisticRegression:
    model = LogisticRegression(
        C=c, class_weight="balanced", max_iter=5000, solver="liblinear", random_state=SEED
    )
    model.fit(x, y)
    return model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=DEFAULT_TRAIN)
    parser.add_argument("--real", type=Path, default=DEFAULT_REAL)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--c", type=float, default=None, help="inverse regularization (default: chosen by CV)"
    )
    args = parser.parse_args()

    rows = load_rows(args.train, args.real)
    x, y = featurize(rows)
    groups = np.array([r["group"] for r in rows])
    print(f"rows={len(rows)} positives={int(y.sum())} negatives={int((1 - y).sum())}", file=sys.stderr)

    candidates = [args.c] if args.c else [0.3, 1.0, 3.0, 10.0]
    best_c, best_key = candidates[0], (-1.0, 0.0)
    for c in candidates:
        oof = np.zeros(len(rows))
        for tr, te in GroupKFold(n_splits=5).split(x, y, groups):
            oof[te] = fit(x[tr], y[tr], c).predict_proba(x[te])[:, 1]
        flagged = oof >= 0.5
        tpr = float((flagged & (y == 1)).sum() / max(1, (y == 1).sum()))
        fpr = float((flagged & (y == 0)).sum() / max(1, (y == 0).sum()))
        print(f"C={c}: grouped-CV TPR={tpr:.3f} FPR={fpr:.3f}", file=sys.stderr)
        key = (tpr - 3 * fpr, -c)
        if key > best_key:
            best_c, best_key = c, key

    model = fit(x, y, best_c)
    coef = model.coef_[0]
    n_dense = len(FEATURE_RULES) + len(SHAPE_FEATURES)
    hashed = coef[n_dense:] * HASHED_SCALE
    nz = np.nonzero(np.abs(hashed) > 1e-6)[0]
    artifact = {
        "format": "mcpwarden-tools-linear/1",
        "feature_rules": list(FEATURE_RULES),
        "shape_features": list(SHAPE_FEATURES),
        "dense": [round(float(w), 6) for w in coef[:n_dense]],
        "bias": round(float(model.intercept_[0]), 6),
        "hash_dim": HASH_DIM,
        "hashed_index": [int(i) for i in nz],
        "hashed_weight": [round(float(hashed[i]), 6) for i in nz],
        "training": {
            "seed": SEED,
            "C": best_c,
            "rows": len(rows),
            "positives": int(y.sum()),
            "sklearn": sklearn.__version__,
            "train_file": args.train.name,
            "real_packages": sorted({r["group"][5:] for r in rows if r["group"].startswith("real:")}),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(artifact, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    print(
        f"C={best_c}; wrote {args.out} ({args.out.stat().st_size} bytes, {len(nz)} hashed weights)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
