"""The real-tool corpus keeps the shape the benchmark and the training script rely on.

Why: the held-out FPR is only meaningful if the corpus is large and varied (issue 10 asks for
2,000+ tools from 100+ servers), each (package, tool) counts once, a share of packages stays
out of training, and sources kept for a separate evaluation never leak in.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from mcpwarden.detect.tools.model import ARTIFACT

REAL_TOOLS = Path(__file__).resolve().parents[2] / "data" / "real_tools.jsonl"
SERVERS_MODULE = Path(__file__).resolve().parents[3] / "scripts" / "real_tool_servers.py"


def _reserved() -> tuple[str, ...]:
    """The reserved and deliberately malicious sources every real corpus leaves out (the
    collectors read the same list)."""
    spec = importlib.util.spec_from_file_location("real_tool_servers", SERVERS_MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return tuple(module.RESERVED)


EXCLUDED = _reserved()

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
