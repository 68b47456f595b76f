"""The real-tool corpus keeps the shape the benchmark and the training script rely on.

Why: the held-out FPR is only meaningful if the corpus is large and varied (issue 10 asks for
2,000+ tools from 100+ servers), each (package, tool) counts once, a share of packages stays
out of training, and sources kept for a separate evaluation never leak in.
"""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from mcpwarden.detect.tools.model import ARTIFACT

REAL_TOOLS = Path(__file__).resolve().parents[2] / "data" / "real_tools.jsonl"
# Kept out on purpose: tool sets reserved for a separate evaluation (issue 10) and deliberately
# vulnerable or malicious demo servers, which are not benign real tools.
EXCLUDED = (
    "awslabs.",
    "github-mcp-server",
    "@github/",
    "damn-vulnerable",
    "everything-wrong",
    "malicious",
    "hijack",
    "context-forge",
    "secure-mcp-gateway",
)

pytestmark = pytest.mark.skipif(not REAL_TOOLS.exists(), reason="real tool corpus not present")


def rows() -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in REAL_TOOLS.read_text(encoding="utf-8").splitlines()]


def trained_packages() -> set[str]:
    """The real packages the shipped model was fitted on; the rest are held out."""
    raw = resources.files("mcpwarden.detect.models").joinpath(ARTIFACT).read_text(encoding="utf-8")
    return set(json.loads(raw)["training"]["real_packages"])


def test_corpus_is_large_and_varied() -> None:
    data = rows()
    packages = {r["package"] for r in data}
    assert len(data) >= 2000 and len(packages) >= 100
    # No single server may dominate the rate.
    assert max(Counter(r["package"] for r in data).values()) / len(data) < 0.1


def test_each_package_tool_pair_once_with_a_version() -> None:
    data = rows()
    keys = [(r["package"], r["tool"]["name"]) for r in data]
    assert len(keys) == len(set(keys))
    assert all(r["version"] and r["ecosystem"] in {"npm", "pypi"} for r in data)


def test_a_share_of_packages_is_held_out_of_training() -> None:
    packages = {r["package"] for r in rows()}
    trained = trained_packages()
    assert trained <= packages, "the model was trained on packages no longer in the corpus: retrain"
    assert 0.2 <= len(packages - trained) / len(packages) <= 0.45


def test_no_excluded_source() -> None:
    assert not [p for p in {r["package"] for r in rows()} if any(x in p for x in EXCLUDED)]
