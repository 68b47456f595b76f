"""Secret detection: recall per kind and false positives per 1,000 benign files,
mcpwarden's `find_secrets` against detect-secrets alone, on the same files in one run.

Corpus: `bench/secrets_corpus.py` (deterministic: planted secrets in 16 formats, and
generated benign code, config and docs). With `--site-packages N`, N more benign files
(.py, .md, .txt, .json, .toml, .cfg) are read from the installed packages, which is real
material no one wrote for this benchmark; that part depends on the machine's packages.

A detector finds a planted secret when it reports anything on the lines the secret
covers; a benign file counts as a false positive when the detector reports anything in
it. detect-secrets runs with its default settings (all plugins, default filters) over the
same files written to a temporary directory, as its CLI would scan them.

Usage: .venv/bin/python bench/secrets_recall.py [--per-kind 12] [--benign 1000] [--site-packages 0]
"""

from __future__ import annotations

import argparse
import sys
import sysconfig
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from secrets_corpus import Sample, benign, planted  # noqa: E402

from mcpwarden.detect.text import find_secrets  # noqa: E402

SUFFIXES = (".py", ".md", ".txt", ".json", ".toml", ".cfg")
MAX_FILE = 200_000


def site_packages_files(count: int) -> list[Sample]:
    """Up to `count` text files from the installed packages, in a stable (sorted) order."""
    if count <= 0:
        return []
    root = Path(sysconfig.get_paths()["purelib"])
    paths = sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    step = max(1, len(paths) // count)
    out: list[Sample] = []
    for p in paths[::step]:
        try:
            text = p.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if 0 < len(text) <= MAX_FILE:
            out.append(Sample(f"site-{len(out)}{p.suffix}", text, None))
        if len(out) >= count:
            break
    return out


def ours(sample: Sample) -> set[int]:
    """Line numbers (1-based) where mcpwarden reports a secret."""
    lines: set[int] = set()
    for f in find_secrets(sample.text):
        if f.span is None:
            continue
        first = sample.text.count("\n", 0, f.span[0]) + 1
        lines.update(range(first, first + sample.text.count("\n", f.span[0], f.span[1]) + 1))
    return lines


def theirs(samples: list[Sample]) -> dict[str, set[int]]:
    """Line numbers where detect-secrets (default settings) reports a secret, per sample."""
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    with tempfile.TemporaryDirectory(prefix="secrets-bench-") as tmp:
        paths: dict[str, str] = {}
        for s in samples:
            path = Path(tmp) / s.name
            path.write_text(s.text, encoding="utf-8")
            paths[str(path)] = s.name
        collection = SecretsCollection()
        with default_settings():
            collection.scan_files(*paths)
        out: dict[str, set[int]] = defaultdict(set)
        for filename, secrets in collection.data.items():
            for secret in secrets:
                out[paths.get(filename, Path(filename).name)].add(secret.line_number)
        return out


def _hit(sample: Sample, lines: Iterable[int]) -> bool:
    first, last = sample.lines()
    return any(first <= n <= last for n in lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-kind", type=int, default=12)
    ap.add_argument("--benign", type=int, default=1000)
    ap.add_argument("--site-packages", type=int, default=0)
    args = ap.parse_args()

    positives = list(planted(per_kind=args.per_kind))
    generated = list(benign(count=args.benign))
    real = site_packages_files(args.site_packages)
    everything = positives + generated + real

    started = time.perf_counter()
    ours_lines = {s.name: ours(s) for s in everything}
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    theirs_lines = theirs(everything)
    theirs_s = time.perf_counter() - started

    formats = {Path(s.name).suffix for s in positives}
    print(
        f"planted: {len(positives)} files, {len({s.kind for s in positives})} kinds, {len(formats)} formats"
    )
    print(f"benign: {len(generated)} generated, {len(real)} from installed packages\n")
    print("| kind | n | mcpwarden recall | detect-secrets recall |\n|---|---:|---:|---:|")
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for s in positives:
        assert s.kind is not None
        by_kind[s.kind].append(s)
    total_ours = total_theirs = 0
    for kind, samples in by_kind.items():
        a = sum(_hit(s, ours_lines[s.name]) for s in samples)
        b = sum(_hit(s, theirs_lines.get(s.name, ())) for s in samples)
        total_ours += a
        total_theirs += b
        print(f"| {kind} | {len(samples)} | {a / len(samples):.2f} | {b / len(samples):.2f} |")
    n = len(positives)
    print(f"| **all** | {n} | **{total_ours / n:.3f}** | **{total_theirs / n:.3f}** |\n")

    print("| benign set | files | mcpwarden FP / 1,000 files | detect-secrets FP / 1,000 files |")
    print("|---|---:|---:|---:|")
    for label, group in (("generated", generated), ("installed packages", real)):
        if not group:
            continue
        a = sum(bool(ours_lines[s.name]) for s in group)
        b = sum(bool(theirs_lines.get(s.name)) for s in group)
        print(f"| {label} | {len(group)} | {1000 * a / len(group):.1f} | {1000 * b / len(group):.1f} |")
    print(f"\ntime: mcpwarden {ours_s:.2f}s, detect-secrets {theirs_s:.2f}s for {len(everything)} files")


if __name__ == "__main__":
    main()
