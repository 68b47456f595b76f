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
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mcpwarden.detect.text import features  # noqa: E402
from mcpwarden.detect.text.model import ARTIFACT, InjectionModel  # noqa: E402
from mcpwarden.detect.text.normalize import normalize  # noqa: E402
from mcpwarden.detect.text.rules import RULES, match_rules  # noqa: E402
from mcpwarden.detect.text.scan import raw_margins  # noqa: E402

SEED = 20261127
DEFAULT_TRAIN = ROOT.parent / "shared" / "data" / "injection" / "train.jsonl"
DEFAULT_OUT = ROOT / "src" / "mcpwarden" / "detect" / "models" / ARTIFACT
HELD_OUT_MOD = 5  # groups whose crc32 % 5 == 0 are held out for reporting
MAX_CHUNKS_PER_GROUP = 60
MAX_SHORT_PER_GROUP = 40
CHUNK_MIN, CHUNK_MAX = 120, 1500
SHORT_MIN, SHORT_MAX = 25, 300


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


def short_texts(text: str) -> list[str]:
    """Single prose paragraphs of SHORT_MIN..SHORT_MAX characters.

    Docstring summaries ("Return the socket's address.", "Send data to the peer.") are
    short imperatives about software: the best counterweight to the lesson "short and
    imperative means attack" that direct-injection rows would otherwise teach.
    """
    return [p for p in _paragraphs(text) if SHORT_MIN <= len(p) <= SHORT_MAX and _prose(p)]


def _dpkg_descriptions() -> Iterator[tuple[str, str]]:
    status = Path("/var/lib/dpkg/status")
    if not status.is_file():
        print(f"skip: {status} not found", file=sys.stderr)
        return
    for stanza in status.read_text(encoding="utf-8", errors="replace").split("\n\n"):
        name, description, in_description = "", [], False
        for line in stanza.splitlines():
            if line.startswith("Package:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("Description:"):
                description.append(line.split(":", 1)[1].strip() + ".")
                in_description = True
            elif in_description and line.startswith(" "):
                body = line.strip()
                description.append("" if body == "." else body)
            else:
                in_description = False
        if name and description:
            yield f"deb:{name}", "\n".join(description).replace("\n\n", "\n\n")


def _read_maybe_gzip(path: Path) -> str:
    import gzip

    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except OSError:
            return ""
    return raw.decode("utf-8", errors="replace")


def _system_docs() -> Iterator[tuple[str, str]]:
    """Text written for people: licences, Debian READMEs, the standard library's test e-mails.

    Licences and e-mails speak to their reader in the second person and the imperative
    ("You must give any other recipients a copy", "reply to this message"), which is
    exactly what a detector must not confuse with an instruction to a model.
    """
    licenses = Path("/usr/share/common-licenses")
    if licenses.is_dir():
        for path in sorted(p for p in licenses.iterdir() if p.is_file()):
            yield f"license:{path.name}", _read_maybe_gzip(path)
    else:
        print(f"skip: {licenses} not found", file=sys.stderr)
    docs = Path("/usr/share/doc")
    if docs.is_dir():
        for path in sorted(docs.glob("*/README*")):
            if path.is_file() and path.suffix in {"", ".gz", ".txt", ".md", ".Debian"}:
                yield f"doc:{path.parent.name}", _read_maybe_gzip(path)
    else:
        print(f"skip: {docs} not found", file=sys.stderr)
    mails = Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"
    if mails.is_dir():
        for path in sorted(mails.glob("msg_*.txt")):
            message = email.parser.Parser().parsestr(path.read_text(encoding="utf-8", errors="replace"))
            for part in message.walk():
                payload = part.get_payload(decode=True) if part.get_content_type() == "text/plain" else None
                if isinstance(payload, bytes):
                    yield f"email:{path.stem}", payload.decode("utf-8", errors="replace")
    else:
        print(f"skip: {mails} not found", file=sys.stderr)


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
        _dpkg_descriptions(),
        _system_docs(),
    ]
    per_group: dict[str, list[str]] = {}
    short_count: dict[str, int] = {}
    for source in sources:
        for group, text in source:
            bucket = per_group.setdefault(group, [])
            if len(bucket) < MAX_CHUNKS_PER_GROUP + MAX_SHORT_PER_GROUP:
                bucket.extend(chunk(text)[: max(0, MAX_CHUNKS_PER_GROUP - len(bucket))])
            room = MAX_SHORT_PER_GROUP - short_count.get(group, 0)
            if room > 0:
                shorts = short_texts(text)[:room]
                short_count[group] = short_count.get(group, 0) + len(shorts)
                bucket.extend(shorts)
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


def _doc_vector(text: str) -> dict[int, float]:
    """Whole-document features; rule indicators from decoded segments are merged in."""
    norm = normalize(text)
    vec = features.extract(norm.text, match_rules(norm.text))
    for seg in norm.segments:
        for k, v in features.extract(seg.text, match_rules(seg.text)).items():
            if k >= features.HASH_SIZE:
                vec[k] = max(vec.get(k, 0.0), v)
    return vec


def _segment_vectors(text: str) -> list[tuple[str, dict[int, float]]]:
    """(segment text, features) exactly as the runtime segments a normalized document."""
    norm = normalize(text)
    hits = match_rules(norm.text)
    out = []
    for start, end in features.segments(norm.text):
        seg_hits = [h for h in hits if h.span[0] < end and start < h.span[1]]
        embedded = len(norm.text) >= 2 * (end - start)
        out.append(
            (norm.text[start:end], features.extract(norm.text[start:end], seg_hits, embedded=embedded))
        )
    return out


def segment_examples(
    rows: list[dict[str, Any]], all_rows: list[dict[str, Any]], benign_chunks: list[str], rng: random.Random
) -> tuple[list[dict[int, float]], list[int]]:
    """Line/sentence-level examples.

    Negatives: every segment of a benign row or benign-corpus chunk. Positives: in an
    injected document, the segments that appear in no benign document (the dataset keeps
    each clean context next to its injected copies, so this isolates the injection) and
    segments of other attacks that hit a strong rule. Whole direct prompts are left to the
    document model: as segments they would teach that any question is an attack.
    The clean segments are collected over `all_rows` (the calibration rows too): a clean
    context may sit in the calibration part while its injected copies are in `rows`.
    """
    benign_segments = {
        seg for row in all_rows if not row["label"] for seg, _ in _segment_vectors(row["text"])
    }
    vectors: list[dict[int, float]] = []
    labels: list[int] = []
    for row in rows:
        if not row["label"]:
            for _, vec in _segment_vectors(row["text"]):
                vectors.append(vec)
                labels.append(0)
    for chunk_text in benign_chunks:
        for _, vec in _segment_vectors(chunk_text):
            vectors.append(vec)
            labels.append(0)
    for row in rows:
        if not row["label"]:
            continue
        text = row["text"]
        diffable = row["kind"] == "indirect" and row["id"].split("-")[0] in {"bipia", "agentdojo"}
        for seg, vec in _segment_vectors(text):
            strong = any(k in vec for k in (features.RULE_INDEX[r.id] for r in RULES if r.weight >= 0.5))
            if (diffable and seg not in benign_segments) or (not diffable and strong):
                vectors.append(vec)
                labels.append(1)
    order = list(range(len(vectors)))
    rng.shuffle(order)
    return [vectors[i] for i in order], [labels[i] for i in order]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=DEFAULT_TRAIN)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--c", type=float, default=16.0, help="inverse L2 regularization strength")
    parser.add_argument("--benign-weight", type=float, default=0.6, help="total weight of extra benign text")
    parser.add_argument("--target-fpr", type=float, default=0.005, help="FPR of the default threshold")
    parser.add_argument("--negative-weight", type=float, default=2.0, help="weight of labeled benign rows")
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

    # document model
    labels = np.array([int(r["label"]) for r in fit_rows] + [0] * len(fit_extra))
    n_neg = sum(1 for r in fit_rows if not r["label"])
    extra_w = args.benign_weight * n_neg / max(1, len(fit_extra))
    row_w = [1.0 if r["label"] else args.negative_weight for r in fit_rows]
    weights = np.array(row_w + [extra_w] * len(fit_extra))
    x = _matrix([_doc_vector(t) for t in [r["text"] for r in fit_rows] + [t for _, t in fit_extra]])
    doc = LogisticRegression(C=args.c, max_iter=2000, solver="liblinear", random_state=SEED)
    doc.fit(x, labels, sample_weight=weights)

    # segment model
    seg_vectors, seg_labels = segment_examples(fit_rows, rows, [t for _, t in fit_extra], rng)
    y = np.array(seg_labels)
    pos_w = args.negative_weight * (len(y) - y.sum()) / max(1, y.sum())
    seg = LogisticRegression(C=args.c, max_iter=2000, solver="liblinear", random_state=SEED)
    seg.fit(_matrix(seg_vectors), y, sample_weight=np.where(y == 1, pos_w, args.negative_weight))
    print(f"segment examples: {int(y.sum())} positive / {int(len(y) - y.sum())} negative", file=sys.stderr)

    meta = {
        "n_features": features.N_FEATURES,
        "rule_ids": list(features.RULE_IDS),
        "seed": SEED,
        "c": args.c,
        "benign_weight": args.benign_weight,
        "train_rows": len(fit_rows),
        "benign_chunks": len(fit_extra),
        "segment_examples": len(y),
    }
    doc_w, seg_w = doc.coef_[0].astype(np.float32), seg.coef_[0].astype(np.float32)
    doc_b, seg_b = float(doc.intercept_[0]), float(seg.intercept_[0])
    uncalibrated = InjectionModel(doc_w, doc_b, seg_w, seg_b, (1.0, 0.0, 0.0, 0.0), meta)

    # combiner (calibration) on the runtime margins of held-out rows and benign chunks
    calib_texts = [r["text"] for r in calib_rows] + [t for _, t in calib_extra]
    calib_labels = np.array([int(r["label"]) for r in calib_rows] + [0] * len(calib_extra))
    calib_w = np.array(
        [1.0] * len(calib_rows)
        + [args.benign_weight * len(calib_rows) / 2 / max(1, len(calib_extra))] * len(calib_extra)
    )
    margins = np.array([raw_margins(t, uncalibrated) for t in calib_texts])
    combiner = LogisticRegression(C=1e4, solver="lbfgs")
    combiner.fit(margins, calib_labels, sample_weight=calib_w)
    a, b, c = (float(v) for v in combiner.coef_[0])
    if c < 0:
        # Rule hits may only raise a score: conditional on the margins (which already see
        # the rules) more hits mark articles about attacks in this data, but a negative
        # weight would also sink a rare attack phrase the linear models never learned.
        combiner.fit(margins[:, :2], calib_labels, sample_weight=calib_w)
        (a, b), c = (float(v) for v in combiner.coef_[0]), 0.0
    model = InjectionModel(doc_w, doc_b, seg_w, seg_b, (a, b, c, float(combiner.intercept_[0])), meta)

    probs = np.array([model.probability(float(d), float(s), float(r)) for d, s, r in margins])
    negatives = np.sort(
        np.concatenate(
            [probs[: len(calib_rows)][calib_labels[: len(calib_rows)] == 0], probs[len(calib_rows) :]]
        )
    )
    # The calibration rows share contexts with the fit rows, so their false-positive rate
    # is optimistic; the operating point is set at half the 1% target to leave a margin.
    operating = float(negatives[int((1.0 - args.target_fpr) * (len(negatives) - 1))])
    meta["threshold"] = round(operating, 3)
    indirect = np.array([r["kind"] == "indirect" for r in calib_rows])
    print(
        f"calibration: threshold for {args.target_fpr:.1%} FPR {operating:.3f}, indirect TPR there "
        f"{(probs[: len(calib_rows)][indirect] >= operating).mean():.3f}",
        file=sys.stderr,
    )
    labeled = len(calib_rows)
    pos = calib_labels[:labeled] == 1
    flagged = probs[:labeled] >= 0.5
    print(
        f"calibration split: TPR {flagged[pos].mean():.3f}  FPR {flagged[~pos].mean():.3f}  "
        f"benign-corpus FPR {(probs[labeled:] >= 0.5).mean():.4f}  combiner {a:.3f} {b:.3f} {c:.3f}",
        file=sys.stderr,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
