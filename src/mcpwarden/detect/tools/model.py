"""The learned part of the tool detector: a logistic model over rule evidence and wording.

Why a linear model: it runs in microseconds with numpy alone, loads offline from a small
file shipped in the package, and its weights can be inspected. Its inputs are the rule
strengths (so it learns how much to trust each rule) plus hashed word uni- and bigrams
(so it catches phrasings no rule anticipated). Real tool definitions from published MCP
servers are part of its negatives, which keeps it from treating ordinary API prose as an
attack. `scripts/train_tool_model.py` rebuilds the artifact reproducibly.
"""

from __future__ import annotations

import itertools
import json
import math
import zlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import numpy.typing as npt

from mcpwarden.detect.tools.analysis import ToolAnalysis, rule_score
from mcpwarden.detect.tools.tokens import model_tokens

ARTIFACT = "tools_linear_v1.json"
HASH_DIM = 1 << 14

# Rule ids in feature order; new rules must be appended (the artifact stores this list).
FEATURE_RULES: tuple[str, ...] = (
    "hidden-instruction-block",
    "precondition-instruction",
    "secrecy-instruction",
    "priority-override",
    "argument-hijack",
    "sensitive-data-access",
    "sensitive-path",
    "exfiltration-sink",
    "command-execution",
    "tool-shadowing",
    "preference-manipulation",
    "urgent-system-claim",
    "model-directive",
    "user-deception",
    "param-requests-context",
    "soft-precondition",
    "unicode-tag-smuggling",
    "bidi-control",
    "zero-width-chars",
    "ansi-escape",
    "homoglyph-name",
    "mixed-script-text",
    "encoded-payload",
    "url-reference",
    "email-reference",
    "cross-tool-reference",
    "oversized-description",
    "off-topic-description",
)
SHAPE_FEATURES: tuple[str, ...] = ("rule_logit", "log_desc_len", "n_params", "foreign_refs", "n_rules")


def tokens(text: str) -> list[str]:
    words = model_tokens(text)
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def hashed_indices(text: str) -> list[int]:
    return sorted({zlib.crc32(t.encode("utf-8")) & (HASH_DIM - 1) for t in tokens(text)})


def dense_features(analysis: ToolAnalysis) -> list[float]:
    best: dict[str, float] = {}
    for f in analysis.findings:
        best[f.rule] = max(best.get(f.rule, 0.0), f.score or 0.0)
    rs = min(max(rule_score(analysis.findings), 1e-4), 1 - 1e-4)
    shape = [
        math.log(rs / (1 - rs)) / 5.0,
        math.log1p(analysis.desc_len) / 8.0,
        min(analysis.n_params, 20) / 20.0,
        min(analysis.foreign_refs, 5) / 5.0,
        min(len(best), 10) / 10.0,
    ]
    return [best.get(r, 0.0) for r in FEATURE_RULES] + shape


@dataclass(frozen=True, slots=True)
class LinearModel:
    dense: npt.NDArray[np.float64]
    hashed: npt.NDArray[np.float64]
    bias: float
    hashed_scale: float

    def predict(self, analysis: ToolAnalysis) -> float:
        x = np.asarray(dense_features(analysis), dtype=np.float64)
        z = float(self.dense @ x) + self.bias
        idx = hashed_indices(analysis.text)
        if idx:
            z += float(self.hashed[idx].sum()) * self.hashed_scale / math.sqrt(len(idx))
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


@lru_cache(maxsize=1)
def load_model() -> LinearModel | None:
    """The shipped artifact, or None if this build has none (then rules alone score)."""
    try:
        raw = resources.files("mcpwarden.detect.models").joinpath(ARTIFACT).read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        return None
    data = json.loads(raw)
    if tuple(data["feature_rules"]) != FEATURE_RULES[: len(data["feature_rules"])]:
        raise ValueError(f"{ARTIFACT} was trained with a different rule list; retrain it")
    dense = np.zeros(len(FEATURE_RULES) + len(SHAPE_FEATURES))
    n_rules = len(data["feature_rules"])
    dense[:n_rules] = data["dense"][:n_rules]
    dense[len(FEATURE_RULES) :] = data["dense"][n_rules:]
    hashed = np.zeros(int(data["hash_dim"]))
    for i, w in zip(data["hashed_index"], data["hashed_weight"], strict=True):
        hashed[int(i)] = float(w)
    return LinearModel(dense=dense, hashed=hashed, bias=float(data["bias"]), hashed_scale=1.0)


def combined_score(analysis: ToolAnalysis) -> float:
    """Calibrated probability that the tool is poisoned."""
    model = load_model()
    if model is None:
        return rule_score(analysis.findings)
    return model.predict(analysis)
