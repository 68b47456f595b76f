"""The learned tier: two linear models over `features`, shipped as a small NumPy archive.

* the document model scores windows of about 2 KB: jailbreak prompts and documents
  whose overall shape is an instruction;
* the segment model scores single lines and sentences: one request slipped into an
  otherwise ordinary e-mail, table or web page, which a document-level view dilutes.

A logistic combiner, fitted on data held out from training, turns one window's own
document margin, best segment margin and rule score into a logit; the best window's logit is
then lowered by a multiple of log(length / 200 characters), because a long text, or many
documents joined, is many chances of one high score. The multiple is fitted so that the
benign false-positive rate is the same at every length (`document_probability`), which is
the same as raising the per-window threshold for the document-level rate promised.

Operating points are stored per channel (`CHANNELS`): text a tool returns or a resource
holds should carry no instructions at all, while prompts and sampling messages are
instructions by design, so each gets its own calibrated flag and block threshold.
Weights are produced by `scripts/train_injection_model.py` with a fixed seed; at runtime
only NumPy is needed.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from mcpwarden.detect.text import features

ARTIFACT = "injection-text.npz"

Channel = Literal["tool_result", "prompt"]
CHANNELS: tuple[Channel, ...] = ("tool_result", "prompt")
"""`tool_result`: tool results, resource reads and anything else an upstream returns as data.
`prompt`: prompt messages and sampling requests, which are instructions by design."""


class ModelError(RuntimeError):
    """The shipped artifact is missing or was built for other features."""


def _dot(weights: npt.NDArray[np.float32], bias: float, vector: dict[int, float]) -> float:
    if not vector:
        return bias
    idx = np.fromiter(vector.keys(), dtype=np.int64, count=len(vector))
    val = np.fromiter(vector.values(), dtype=np.float32, count=len(vector))
    return float(bias + np.dot(weights[idx], val))


def check_channel(channel: str) -> Channel:
    """`channel` if it is one of `CHANNELS`, else a ValueError naming the choices."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    return channel


@dataclass(frozen=True, slots=True)
class InjectionModel:
    doc_weights: npt.NDArray[np.float32]
    doc_bias: float
    seg_weights: npt.NDArray[np.float32]
    seg_bias: float
    # coefficients of: window doc margin, its best segment margin, its rule score, log length
    # units, (unused, kept 0 for the artifact layout); intercept
    combiner: tuple[float, float, float, float, float, float]
    meta: dict[str, Any]

    @property
    def threshold(self) -> float:
        """The flag threshold of the `tool_result` channel."""
        return self.flag_threshold("tool_result")

    def _point(self, channel: str, which: str, fallback: float) -> float:
        points = self.meta.get("thresholds", {}).get(check_channel(channel), {})
        return float(points.get(which, fallback))

    def flag_threshold(self, channel: str = "tool_result") -> float:
        """Score at which text of `channel` counts as an injection (see the training report)."""
        return self._point(channel, "flag", float(self.meta.get("threshold", 0.5)))

    def block_threshold(self, channel: str = "tool_result") -> float:
        """Stricter score, calibrated for fewer false positives, at which to block outright."""
        return self._point(channel, "block", max(0.9, self.flag_threshold(channel)))

    def doc_margin(self, vector: dict[int, float]) -> float:
        return _dot(self.doc_weights, self.doc_bias, vector)

    def seg_margin(self, vector: dict[int, float]) -> float:
        return _dot(self.seg_weights, self.seg_bias, vector)

    def window_logit(self, doc_margin: float, seg_margin: float, rules: float = 0.0) -> float:
        """One window's evidence, before the intercept and the length discount: its own
        document margin, its best segment margin and its rule score, never mixed with another
        window's, so a join of passing documents has no more evidence than its best part."""
        a, b, c, _, _, _ = self.combiner
        return a * doc_margin + b * seg_margin + c * rules

    @property
    def length_unit(self) -> float:
        """Characters per independent chance of a false alarm (`document_probability`)."""
        return float(self.meta.get("length_unit", 2000.0))

    def document_probability(self, best_window: float, n_chars: int) -> float:
        """Calibrated probability of the text from its best window's logit and its length.

        The best of many windows is higher than the best of few even when all are benign: a
        text of n units of `length_unit` characters is n chances of a false alarm. The length
        coefficient (≤ 0, fitted at training so that the benign calibration tail of long and
        joined texts matches that of single documents) lowers the logit by a multiple of
        log(n), which is the same as raising the per-window threshold so that the
        document-level false-positive rate stays the one promised. Texts up to one unit get
        no discount.
        """
        _, _, _, e, _, d = self.combiner
        units = max(1.0, n_chars / self.length_unit)
        z = best_window + d + e * math.log(units)
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        ez = math.exp(z)
        return ez / (1.0 + ez)

    def save(self, path: Path) -> None:
        """Write an `.npz` that `numpy.load` reads, byte-identical for identical weights.

        `numpy.savez_compressed` stamps each member with the current time; fixed member
        dates make the artifact's hash a function of the weights alone, so a test can pin it.
        """
        arrays: dict[str, npt.NDArray[Any]] = {
            "doc_weights": self.doc_weights.astype(np.float32),
            "seg_weights": self.seg_weights.astype(np.float32),
            "scalars": np.array([self.doc_bias, self.seg_bias, *self.combiner], dtype=np.float64),
            "meta": np.frombuffer(json.dumps(self.meta, sort_keys=True).encode("utf-8"), dtype=np.uint8),
        }
        with zipfile.ZipFile(path, "w") as archive:
            for name, array in arrays.items():
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, array, allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, buffer.getvalue())

    @classmethod
    def load(cls, path: Path) -> InjectionModel:
        try:
            with np.load(path, allow_pickle=False) as data:
                doc = data["doc_weights"].astype(np.float32)
                seg = data["seg_weights"].astype(np.float32)
                scalars = [float(x) for x in data["scalars"]]
                meta = json.loads(bytes(data["meta"]).decode("utf-8"))
        except (KeyError, ValueError) as exc:
            raise ModelError(f"{path.name} is not a model artifact of this version: {exc}") from None
        if len(scalars) == 6:  # artifacts without count coefficients
            scalars = [*scalars[:5], 0.0, 0.0, scalars[5]]
        if len(scalars) != 8:
            raise ModelError(f"{path.name} has {len(scalars)} scalars; rerun the training script")
        shape = (features.N_FEATURES,)
        if doc.shape != shape or seg.shape != shape or meta.get("rule_ids") != list(features.RULE_IDS):
            raise ModelError(f"{path.name} was built for different features; rerun the training script")
        doc_bias, seg_bias, a, b, c, e, f, d = scalars
        return cls(doc, doc_bias, seg, seg_bias, (a, b, c, e, f, d), meta)


@lru_cache(maxsize=1)
def default_model() -> InjectionModel:
    """The artifact shipped inside the package; loaded once, offline."""
    ref = resources.files("mcpwarden.detect") / "models" / ARTIFACT
    with resources.as_file(ref) as path:
        if not path.exists():
            raise ModelError(f"model artifact {ARTIFACT} is missing; run `make models`")
        return InjectionModel.load(path)
