"""The small-model tier rebuilds reproducibly: a reduced fine-tune (a tiny committed subset, a
few steps, from the pinned base weights) gives the committed probe logits.

Needs the training venv that `make train-venv` creates (torch, the base weights), which
`make test` and `make models` create first. Outside CI, a checkout without it skips; in CI
(`CI` set) its absence is a failure, so the check cannot silently not run there.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TRAIN_VENV = ROOT / ".venv-train" / "bin" / "python"
EXPECTATIONS = Path(__file__).with_name("reduced_minilm_expectations.json")


@pytest.fixture(scope="module")
def build_module() -> Iterator[object]:
    if not TRAIN_VENV.exists():
        if os.environ.get("CI"):
            pytest.fail("the training venv is missing: `make test` creates it with `make train-venv`")
        pytest.skip("no .venv-train: run `make train-venv`")
    paths = [str(ROOT / "scripts" / "minilm"), str(ROOT / "scripts")]
    sys.path[:0] = paths
    import build

    yield build
    for p in paths:
        sys.path.remove(p)


def test_reduced_fine_tune_reproduces_the_committed_probe_logits(build_module: object) -> None:
    from mcpwarden.detect.text.minilm import TOKENIZER_FILE, models_folder

    logits = build_module.reduced_logits(models_folder() / TOKENIZER_FILE)  # type: ignore[attr-defined]
    expected = json.loads(EXPECTATIONS.read_text("utf-8"))["probe_logits"]
    assert logits == pytest.approx(expected, abs=2e-3)
