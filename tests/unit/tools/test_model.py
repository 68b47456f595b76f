"""The shipped model artifact: loads offline and is what the training script rebuilds."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from mcpwarden.detect.tools.model import ARTIFACT, FEATURE_RULES, load_model

ROOT = Path(__file__).resolve().parents[3]
TRAIN = ROOT.parent / "shared" / "data" / "tools" / "train.jsonl"


# Weights are written rounded to 6 decimals; the solver's floating-point sums differ in the last
# bits between CPUs (SIMD width decides the summation order), so a weight near a rounding
# boundary can land one unit of the 6th decimal either side on another machine.
WEIGHT_TOLERANCE = 2e-6


def close(rebuilt: object, expected: object, path: str = "") -> list[str]:
    """Where `rebuilt` differs from `expected`: floats by more than the tolerance, else exactly."""
    if isinstance(expected, float) and isinstance(rebuilt, float):
        return [] if abs(rebuilt - expected) <= WEIGHT_TOLERANCE else [f"{path}: {rebuilt} != {expected}"]
    if isinstance(expected, dict) and isinstance(rebuilt, dict):
        if rebuilt.keys() != expected.keys():
            return [f"{path}: keys {sorted(rebuilt)} != {sorted(expected)}"]
        return [d for k in expected for d in close(rebuilt[k], expected[k], f"{path}.{k}")]
    if isinstance(expected, list) and isinstance(rebuilt, list):
        if len(rebuilt) != len(expected):
            return [f"{path}: length {len(rebuilt)} != {len(expected)}"]
        return [
            d
            for i, (a, b) in enumerate(zip(rebuilt, expected, strict=True))
            for d in close(a, b, f"{path}[{i}]")
        ]
    return [] if rebuilt == expected else [f"{path}: {rebuilt!r} != {expected!r}"]


def shipped() -> dict:  # type: ignore[type-arg]
    return json.loads(
        resources.files("mcpwarden.detect.models").joinpath(ARTIFACT).read_text(encoding="utf-8")
    )


def test_artifact_matches_the_rule_list() -> None:
    assert tuple(shipped()["feature_rules"]) == FEATURE_RULES
    assert load_model() is not None


@pytest.mark.slow
@pytest.mark.skipif(not TRAIN.exists(), reason="labelled tool data not present")
def test_training_script_rebuilds_the_shipped_artifact(tmp_path: Path) -> None:
    out = tmp_path / ARTIFACT
    c = str(shipped()["training"]["C"])
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_tool_model.py"), "--c", c, "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    assert close(json.loads(out.read_text(encoding="utf-8")), shipped()) == []
