"""The learned tier: a linear model over `features`, shipped as a small NumPy archive.

Weights are produced by `scripts/train_injection_model.py` from the train split plus
benign text found on the build machine, with a fixed seed. At runtime only NumPy is
needed: a margin is a sparse dot product, and a Platt sigmoid fitted on held-out data
turns the margin into a calibrated probability.
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


@dataclass(frozen=True, slots=True)
class InjectionModel:
    weights: npt.NDArray[np.float32]
    bias: float
    platt_a: float
    platt_b: float
    meta: dict[str, Any]

    def margin(self, vector: dict[int, float]) -> float:
        if not vector:
            return self.bias
        idx = np.fromiter(vector.keys(), dtype=np.int64, count=len(vector))
        val = np.fromiter(vector.values(), dtype=np.float32, count=len(vector))
        return float(self.bias + np.dot(self.weights[idx], val))

    def probability(self, margin: float) -> float:
        z = self.platt_a * margin + self.platt_b
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float32),
            scalars=np.array([self.bias, self.platt_a, self.platt_b], dtype=np.float64),
            meta=np.frombuffer(json.dumps(self.meta, sort_keys=True).encode("utf-8"), dtype=np.uint8),
        )

    @classmethod
    def load(cls, path: Path) -> InjectionModel:
        with np.load(path, allow_pickle=False) as data:
            weights = data["weights"].astype(np.float32)
            bias, a, b = (float(x) for x in data["scalars"])
            meta = json.loads(bytes(data["meta"]).decode("utf-8"))
        expected = {"n_features": features.N_FEATURES, "rule_ids": list(features.RULE_IDS)}
        if weights.shape != (features.N_FEATURES,) or meta.get("rule_ids") != expected["rule_ids"]:
            raise ModelError(f"{path.name} was built for different features; rerun the training script")
        return cls(weights, bias, a, b, meta)


@lru_cache(maxsize=1)
def default_model() -> InjectionModel:
    """The artifact shipped inside the package; loaded once, offline."""
    ref = resources.files("mcpwarden.detect") / "models" / ARTIFACT
    with resources.as_file(ref) as path:
        if not path.exists():
            raise ModelError(f"model artifact {ARTIFACT} is missing; run scripts/train_injection_model.py")
        return InjectionModel.load(path)
