"""Train the text injection model shipped in src/mcpwarden/detect/models/.

Reproducible: fixed seed, inputs are the train split plus benign text that `make install`
puts on the machine (package metadata, docstrings, npm READMEs, the Python standard
library). The labeled data alone teaches a model that "long English prose = benign,
anything else = attack"; ordinary documentation is full of imperatives ("run the
command", "send a request to the URL") and is the best cure for that. Part of that
corpus, chosen by package, is held out and never trained on, so `bench/detect_text.py`
can report a false-positive rate on real text the model has not seen.

Usage: .venv/bin/python scripts/train_injection_model.py [--train PATH] [--out PATH]
scikit-learn is a dev dependency used only here; the runtime needs NumPy alone.
"""

from __future__ import annotations

import argparse
import ast
import email.parser
import json
import random
import sys
import sysconfig
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mcpwarden.detect.text import features  # noqa: E402
from mcpwarden.detect.text.model import ARTIFACT, InjectionModel  # noqa: E402
from mcpwarden.detect.text.normalize import normalize  # noqa: E402
from mcpwarden.detect.text.rules import match_rules  # noqa: E402
from mcpwarden.detect.text.scan import raw_margin  # noqa: E402

SEED = 20261127
DEFAULT_TRAIN = ROOT.parent / "shared" / "data" / "injection" / "train.jsonl"
DEFAULT_OUT = ROOT / "src" / "mcpwarden" / "detect" / "models" / ARTIFACT
HELD_OUT_MOD = 5  # groups whose crc32 % 5 == 0 are held out for reporting
MAX_CHUNKS_PER_GROUP = 60
CHUNK_MIN, CHUNK_MAX = 120, 1500


# ---------------------------------------------------------------- benign corpus


def _paragraphs(text: str) -> Iterator[str]:
    """Prose paragraphs of a README or docstring; code blocks and tables are skipped."""
    in_fence = False
    block: list[str] = []
    for line in text.splitlines():
        if line.strip().startswith(("```", "~~~")):
            in_fence = not in_fence
            block = []
            continue
        if in_fence:
            continue
        if not line.strip():
            if block:
                yield " ".join(block)
            block = []
            continue
        if line.startswith(("    ", "\t", ">>>", "...", "|", "$ ", "<")):
            continue
        block.append(line.strip())
    if block:
        yield " ".join(block)


def _prose(paragraph: str) -> bool:
    if len(paragraph) < 40:
        return False
    symbols = sum(1 for c in paragraph if c in "{}()[];=<>_*`#/\\")
    letters = sum(1 for c in paragraph if c.isalpha())
    return symbols / len(paragraph) < 0.06 and letters / len(paragraph) > 0.6


def chunk(text: str) -> list[str]:
    """Consecutive prose paragraphs merged into chunks of CHUNK_MIN..CHUNK_MAX characters."""
    chunks: list[str] = []
    current = ""
    for para in filter(_prose, _paragraphs(text)):
        if current and len(current) + len(para) > CHUNK_MAX:
            if len(current) >= CHUNK_MIN:
                chunks.append(current)
            current = ""
        current = f"{current}\n\n{para}" if current else para[:CHUNK_MAX]
    if len(current) >= CHUNK_MIN:
        chunks.append(current)
    return chunks


def _site_packages() -> Path:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return ROOT / ".venv" / "lib" / version / "site-packages"


def _metadata_docs() -> Iterator[tuple[str, str]]:
    site = _site_packages()
    if not site.is_dir():
        print(f"skip: no virtual environment at {site}", file=sys.stderr)
        return
    for meta in sorted(site.glob("*.dist-info/METADATA")):
        msg = email.parser.Parser().parsestr(meta.read_text(encoding="utf-8", errors="replace"))
        name = str(msg.get("Name", meta.parent.name)).lower()
        body = msg.get_payload()
        if isinstance(body, str) and body.strip():
            yield f"pypi:{name}", body


def _docstrings(root: Path, group_prefix: str, limit_files: int) -> Iterator[tuple[str, str]]:
    if not root.is_dir():
        print(f"skip: {root} not found", file=sys.stderr)
        return
    files = sorted(p for p in root.rglob("*.py") if "test" not in p.as_posix().lower())[:limit_files]
    for path in files:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (SyntaxError, ValueError):
            continue
        rel = path.relative_to(root).parts
        group = f"{group_prefix}:{rel[0].removesuffix('.py')}"
        docs = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node)
                if doc and len(doc) > 120:
                    docs.append(doc)
        if docs:
            yield group, "\n\n".join(docs)


def _npm_readmes() -> Iterator[tuple[str, str]]:
    roots = [ROOT / "node_modules", Path("/usr/lib/node_modules"), Path("/usr/local/lib/node_modules")]
    for root in roots:
        if not root.is_dir():
            print(f"skip: {root} not found", file=sys.stderr)
            continue
        for readme in sorted(root.rglob("README.md")):
            parts = readme.relative_to(root).parts
            name = "/".join(parts[:2]) if parts[0].startswith("@") else parts[0]
            yield f"npm:{name}", readme.read_text(encoding="utf-8", errors="replace")


def benign_corpus() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(train, held_out) lists of (group, chunk); split by group so no package is in both."""
    sources: list[Iterable[tuple[str, str]]] = [
        _metadata_docs(),
        _npm_readmes(),
        _docstrings(Path(sysconfig.get_paths()["stdlib"]), "stdlib", 1500),
        _docstrings(_site_packages(), "site", 3000),
    ]
    per_group: dict[str, list[str]] = {}
    for source in sources:
        for group, text in source:
            bucket = per_group.setdefault(group, [])
            if len(bucket) < MAX_CHUNKS_PER_GROUP:
                bucket.extend(chunk(text)[: MAX_CHUNKS_PER_GROUP - len(bucket)])
    train: list[tuple[str, str]] = []
    held_out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for group in sorted(per_group):
        for text in per_group[group]:
            if text in seen:
                continue
            seen.add(text)
            target = held_out if zlib.crc32(group.encode()) % HELD_OUT_MOD == 0 else train
            target.append((group, text))
    return train, held_out


# ---------------------------------------------------------------- training


def _vectorize(texts: list[str]) -> object:
    from scipy.sparse import csr_matrix

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for i, text in enumerate(texts):
        norm = normalize(text)
        vec = features.extract(norm.text, match_rules(norm.text))
        for seg in norm.segments:
            for k, v in features.extract(seg.text, match_rules(seg.text)).items():
                if k >= features.HASH_SIZE:
                    vec[k] = max(vec.get(k, 0.0), v)
        for k, v in vec.items():
            rows.append(i)
            cols.append(k)
            vals.append(v)
    return csr_matrix((vals, (rows, cols)), shape=(len(texts), features.N_FEATURES), dtype=np.float64)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=DEFAULT_TRAIN)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--c", type=float, default=4.0, help="inverse L2 regularization strength")
    parser.add_argument("--benign-weight", type=float, default=0.6, help="total weight of extra benign text")
    args = parser.parse_args()

    from sklearn.linear_model import LogisticRegression

    rng = random.Random(SEED)
    rows = [json.loads(line) for line in args.train.read_text(encoding="utf-8").split("\n") if line.strip()]
    rng.shuffle(rows)
    calib_rows = rows[: len(rows) // 5]
    fit_rows = rows[len(rows) // 5 :]

    extra_train, held_out = benign_corpus()
    rng.shuffle(extra_train)
    calib_extra = extra_train[: len(extra_train) // 5]
    fit_extra = extra_train[len(extra_train) // 5 :]
    print(
        f"labeled: {len(fit_rows)} fit / {len(calib_rows)} calibration; benign corpus: "
        f"{len(fit_extra)} fit / {len(calib_extra)} calibration / {len(held_out)} held out "
        f"({len({g for g, _ in held_out})} groups)",
        file=sys.stderr,
    )

    texts = [r["text"] for r in fit_rows] + [t for _, t in fit_extra]
    labels = np.array([int(r["label"]) for r in fit_rows] + [0] * len(fit_extra))
    n_neg = sum(1 for r in fit_rows if not r["label"])
    extra_w = args.benign_weight * n_neg / max(1, len(fit_extra))
    weights = np.array([1.0] * len(fit_rows) + [extra_w] * len(fit_extra))
    x = _vectorize(texts)
    clf = LogisticRegression(C=args.c, max_iter=2000, solver="liblinear", random_state=SEED)
    clf.fit(x, labels, sample_weight=weights)
    coef = clf.coef_[0].astype(np.float32)
    bias = float(clf.intercept_[0])
    meta = {
        "n_features": features.N_FEATURES,
        "rule_ids": list(features.RULE_IDS),
        "seed": SEED,
        "c": args.c,
        "benign_weight": args.benign_weight,
        "train_rows": len(fit_rows),
        "benign_chunks": len(fit_extra),
    }
    uncalibrated = InjectionModel(coef, bias, 1.0, 0.0, meta)

    # Platt scaling on the runtime score (max over windows and decoded segments).
    calib_texts = [r["text"] for r in calib_rows] + [t for _, t in calib_extra]
    calib_labels = np.array([int(r["label"]) for r in calib_rows] + [0] * len(calib_extra))
    calib_w = np.array(
        [1.0] * len(calib_rows)
        + [args.benign_weight * len(calib_rows) / 2 / max(1, len(calib_extra))] * len(calib_extra)
    )
    margins = np.array([raw_margin(t, uncalibrated) for t in calib_texts]).reshape(-1, 1)
    platt = LogisticRegression(C=1e4, solver="lbfgs")
    platt.fit(margins, calib_labels, sample_weight=calib_w)
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    model = InjectionModel(coef, bias, a, b, meta)

    probs = np.array([model.probability(float(m)) for m in margins[:, 0]])
    labeled = len(calib_rows)
    pos = calib_labels[:labeled] == 1
    flagged = probs[:labeled] >= 0.5
    print(
        f"calibration split: TPR {flagged[pos].mean():.3f}  FPR {flagged[~pos].mean():.3f}  "
        f"benign-corpus FPR {(probs[labeled:] >= 0.5).mean():.4f}",
        file=sys.stderr,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
