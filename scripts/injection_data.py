"""The committed rows of the injection corpus and how a build divides them.

Loading (every file pinned in data/injection/manifest.json, hash-checked; rows held out for
evaluation never returned), the channel a row belongs to, the fit/calibration split, and
joins of benign documents per source for calibrating the flag point. Apart from the
training library (`injection_training`, which re-exports these names) so that neither grows
past one job.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "injection"
MANIFEST = DATA / "manifest.json"
PROMPT_CARRIERS = frozenset({"user_prompt"})
READMES = "real-readme"  # the family of data/injection/real-readmes.jsonl


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_rows(data: Path = DATA, *, verify: bool = True, readmes: bool = False) -> list[dict[str, Any]]:
    """Every committed row, each with a `family` (its source group) for evaluation.

    Rows whose `split` is `eval` (held out for evaluation) are never returned; the README
    sections (family `real-readme`) only when `readmes` is set."""
    manifest = json.loads((data / "manifest.json").read_text("utf-8"))
    rows: list[dict[str, Any]] = []
    for name, pinned in sorted(manifest["files"].items()):
        path = data / name
        if verify and sha256(path) != pinned:
            raise SystemExit(f"{path} does not match its pinned SHA-256 in {data / 'manifest.json'}")
        for line in path.read_text("utf-8").split("\n"):
            if line.strip():
                row = json.loads(line)
                row.setdefault("family", row["id"].split("-")[0])
                if row.get("split") == "eval" or (row["family"] == READMES and not readmes):
                    continue
                rows.append(row)
    return rows


def channel_of(row: dict[str, Any]) -> str:
    return "prompt" if row["carrier"] in PROMPT_CARRIERS else "tool_result"


# ---------------------------------------------------------------- splits and joins


def split(rows: list[dict[str, Any]], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(fit, calibration) row indices; a row and its injected copies share a group (its payload-free
    context for BIPIA-style rows is unknown, so the shared rows split by id)."""
    rng = random.Random(seed)
    order = list(range(len(rows)))
    rng.shuffle(order)
    cut = int(len(order) * fraction)
    return sorted(order[cut:]), sorted(order[:cut])


def split_rows(rows: list[dict[str, Any]], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(fit, calibration) row indices with README sections split apart, by package.

    Every other row keeps the side `split` gives it without README rows; a seeded `fraction`
    of the README packages (their `source`), whole, goes to calibration. Without README rows
    this is `split`."""
    others = [i for i, r in enumerate(rows) if r["family"] != READMES]
    fit_o, cal_o = split([rows[i] for i in others], fraction, seed)
    fit = [others[i] for i in fit_o]
    cal = [others[i] for i in cal_o]
    packages = sorted({r["source"] for r in rows if r["family"] == READMES})
    if packages:
        random.Random(seed).shuffle(packages)
        held = set(packages[: int(len(packages) * fraction)])
        for i, r in enumerate(rows):
            if r["family"] == READMES:
                (cal if r["source"] in held else fit).append(i)
    return sorted(fit), sorted(cal)


def source_of(row: dict[str, Any]) -> str:
    """The source a row's text comes from: all generated carriers are one ('gen'), every shared
    dataset and the README sections its own family."""
    family = str(row["family"])
    return "gen" if family.startswith("gen-") else family


def source_joins(rows: list[dict[str, Any]], rng: random.Random, count: int, k: int = 16) -> list[list[str]]:
    """`count` joins of `k` documents of one source each, a list per source."""
    by_source: dict[str, list[str]] = {}
    for r in rows:
        by_source.setdefault(source_of(r), []).append(r["text"])
    pools = [texts for _, texts in sorted(by_source.items()) if len(texts) >= 4]
    if not pools:
        return []
    per = max(8, count)
    return [["\n\n".join(rng.sample(texts, min(k, len(texts)))) for _ in range(per)] for texts in pools]
