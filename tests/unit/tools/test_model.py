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
    assert json.loads(out.read_text(encoding="utf-8")) == shipped()
