"""Reproducible training: committed inputs only, a rebuild matches, the shipped file is pinned."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = ROOT / "scripts"
DATA = ROOT / "data" / "injection"
SHIPPED = ROOT / "src" / "mcpwarden" / "detect" / "models" / "injection-text.npz"
EXPECTATIONS = Path(__file__).with_name("reduced_model_expectations.json")
# Changes only when `make models` is rerun on changed code or data; update it in the same commit.
SHIPPED_SHA256 = "ada92ae3fe19f02314688fcd399e2e137b1aa3466909b8ebb4152e47f9ad8d45"


@pytest.fixture(scope="module")
def scripts() -> Iterator[None]:
    sys.path.insert(0, str(SCRIPTS))
    yield
    sys.path.remove(str(SCRIPTS))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_shipped_model_file_is_the_pinned_one() -> None:
    assert _sha256(SHIPPED) == SHIPPED_SHA256


def test_committed_training_files_match_their_pinned_hashes() -> None:
    manifest = json.loads((DATA / "manifest.json").read_text("utf-8"))
    assert manifest["files"]
    for name, pinned in manifest["files"].items():
        assert _sha256(DATA / name) == pinned, name


def test_every_training_file_has_a_licence_in_sources() -> None:
    sources = (DATA / "SOURCES.md").read_text("utf-8")
    manifest = json.loads((DATA / "manifest.json").read_text("utf-8"))
    for name in manifest["files"]:
        assert f"`{name}`" in sources


def test_generated_corpus_rebuilds_byte_identically(scripts: None) -> None:
    import build_injection_corpus

    rows = build_injection_corpus.build()
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
    assert text == (DATA / "generated.jsonl").read_text("utf-8")


def test_generated_corpus_covers_every_language_and_carrier(scripts: None) -> None:
    rows = [json.loads(line) for line in (DATA / "generated.jsonl").read_text("utf-8").split("\n") if line]
    attack_langs = {r["lang"] for r in rows if r["label"]}
    assert {"en", "fr", "de", "es", "ru", "zh", "ja", "ar", "hi"} <= attack_langs
    benign_carriers = {r["carrier"] for r in rows if not r["label"]}
    assert {
        "email",
        "chat",
        "ticket",
        "code",
        "table",
        "web",
        "log",
        "api_json",
        "docs_i18n",
    } <= benign_carriers


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_reduced_rebuild_matches_committed_expectations_and_reads_only_committed_data(scripts: None) -> None:
    import scipy.sparse  # noqa: F401  (imported before recording: its import reads package files)
    import sklearn.linear_model  # noqa: F401
    import train_injection_model

    opened: list[str] = []
    recording = [True]

    def hook(event: str, args: tuple[object, ...]) -> None:
        if recording[0] and event == "open" and isinstance(args[0], str | Path):
            opened.append(str(args[0]))

    sys.addaudithook(hook)
    try:
        model = train_injection_model.build(reduced=True, log=False)
    finally:
        recording[0] = False
    # What the import system opens (modules, extension modules, zipped stdlib, directories) is code.
    code = (".py", ".pyc", ".so", ".pth", ".typed", ".pyi", ".zip")
    data_files = [
        p
        for p in opened
        if not p.endswith(code)
        and not p.startswith("/dev/")
        and ".dist-info/" not in p
        and not Path(p).is_dir()
    ]
    assert data_files and all(Path(p).resolve().is_relative_to(DATA) for p in data_files), data_files
    expected = json.loads(EXPECTATIONS.read_text("utf-8"))
    got = train_injection_model.expectations(model)
    for channel, points in expected["thresholds"].items():
        for which, value in points.items():
            assert got["thresholds"][channel][which] == pytest.approx(value, abs=2e-3), (channel, which)
    assert got["probes"] == pytest.approx(expected["probes"], abs=2e-3)
