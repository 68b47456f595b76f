"""The learned tier: two linear models over `features`, shipped as a small NumPy archive.

* the document model scores windows of about 2 KB: jailbreak prompts and documents
  whose overall shape is an instruction;
* the segment model scores single lines and sentences: one request slipped into an
  otherwise ordinary e-mail, table or web page, which a document-level view dilutes.

A logistic combiner, fitted on data held out from training, turns the best document
margin, the best segment margin and the hand-written rules' noisy-OR score into one
calibrated probability. The rule score lets a rare but unambiguous phrase count even
when too few training rows carried it for the linear models to learn it.
Weights are produced by `scripts/train_injection_model.py` with a fixed seed; at runtime
only NumPy is needed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mcpwarden.detect.text import features

ARTIFACT = "injection-text.npz"


class ModelError(RuntimeError):
    """The shipped artifact is missing or was built for other features."""


def _dot(weights: npt.NDArray[np.float32], bias: float, vector: dict[int, float]) -> float:
    if not vector:
        return bias
    idx = np.fromiter(vector.keys(), dtype=np.int64, count=len(vector))
    val = np.fromiter(vector.values(), dtype=np.float32, count=len(vector))
    return float(bias + np.dot(weights[idx], val))


@dataclass(frozen=True, slots=True)
class InjectionModel:
    doc_weights: npt.NDArray[np.float32]
    doc_bias: float
    seg_weights: npt.NDArray[np.float32]
    seg_bias: float
    combiner: tuple[float, float, float, float]  # coefficients of doc, segment, rules; intercept
    meta: dict[str, Any]

    @property
    def threshold(self) -> float:
        """The operating point chosen at training: 1% false positives on held-out benign text."""
        return float(self.meta.get("threshold", 0.5))

    def doc_margin(self, vector: dict[int, float]) -> float:
        return _dot(self.doc_weights, self.doc_bias, vector)

    def seg_margin(self, vector: dict[int, float]) -> float:
        return _dot(self.seg_weights, self.seg_bias, vector)

    def probability(self, doc_margin: float, seg_margin: float, rules: float = 0.0) -> float:
        a, b, c, d = self.combiner
        z = a * doc_margin + b * seg_margin + c * rules + d
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            doc_weights=self.doc_weights.astype(np.float32),
            seg_weights=self.seg_weights.astype(np.float32),
            scalars=np.array([self.doc_bias, self.seg_bias, *self.combiner], dtype=np.float64),
            meta=np.frombuffer(json.dumps(self.meta, sort_keys=True).encode("utf-8"), dtype=np.uint8),
        )

    @classmethod
    def load(cls, path: Path) -> InjectionModel:
        try:
            with np.load(path, allow_pickle=False) as data:
                doc = data["doc_weights"].astype(np.float32)
                seg = data["seg_weights"].astype(np.float32)
                doc_bias, seg_bias, a, b, c, d = (float(x) for x in data["scalars"])
                meta = json.loads(bytes(data["meta"]).decode("utf-8"))
        except (KeyError, ValueError) as exc:
            raise ModelError(f"{path.name} is not a model artifact of this version: {exc}") from None
        shape = (features.N_FEATURES,)
        if doc.shape != shape or seg.shape != shape or meta.get("rule_ids") != list(features.RULE_IDS):
            raise ModelError(f"{path.name} was built for different features; rerun the training script")
        return cls(doc, doc_bias, seg, seg_bias, (a, b, c, d), meta)


@lru_cache(maxsize=1)
def default_model() -> InjectionModel:
    """The artifact shipped inside the package; loaded once, offline."""
    ref = resources.files("mcpwarden.detect") / "models" / ARTIFACT
    with resources.as_file(ref) as path:
        if not path.exists():
            raise ModelError(f"model artifact {ARTIFACT} is missing; run scripts/train_injection_model.py")
        return InjectionModel.load(path)
