"""Benign source-code rows from published MCP servers: data/injection/real-code.jsonl.

Why: a gateway relays source code all the time (a filesystem or repository server reading a
file), and the code of MCP servers is the hardest of it: tool descriptions, prompt templates
for the model, comments about agents, API keys and instructions. The detector's code training
rows are generated from templates, so real code measures what they do not.

Sources: the same packages and archives as the READMEs (`real_archives`: the packages of the
real-tool corpus at their recorded versions, each archive checked against its pinned SHA-256),
the same licence rule (permissive only) and the same held-out third (`split` by package). From
each archive, the source files (.py, .js, .mjs, .cjs, .ts, .tsx; no source maps, no
node_modules) that are not minified or generated (no line over MAX_LINE characters, at most
MAX_FILE bytes) are cut at blank lines into pieces of MIN_CHARS to MAX_CHARS characters; at
most PER_PACKAGE pieces per package, spread evenly over its files in path order, so a few
large packages do not make up the corpus. Row ids hash (package, version, path, index): a
rerun writes the same file.

    .venv/bin/python scripts/collect_real_code.py [--cache DIR] [--out PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tarfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collect_real_docs import from_npm, from_pypi, pack
from real_archives import DEFAULT_CACHE, ROOT, Archive, archives, split_of
from real_docs_licences import permissive

DEFAULT_OUT = ROOT / "data" / "injection" / "real-code.jsonl"
SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts", ".tsx")
MIN_CHARS, MAX_CHARS = 200, 3000
MAX_LINE = 400  # a longer line means minified or generated code
MAX_FILE = 200_000
PER_PACKAGE = 12
FAMILY = "real-code"
CARRIER = "code"


def source_files(archive: Archive) -> list[tuple[str, str]]:
    """(path inside the package, text) of every source file worth reading, sorted by path."""
    out: list[tuple[str, bytes]] = []
    if archive.filename.endswith(".whl"):
        with zipfile.ZipFile(io.BytesIO(archive.data)) as whl:
            out = [(n, whl.read(n)) for n in whl.namelist() if n.endswith(SUFFIXES)]
    else:
        with tarfile.open(fileobj=io.BytesIO(archive.data), mode="r:gz") as tar:
            for m in tar.getmembers():
                if m.isfile() and "/" in m.name and m.name.endswith(SUFFIXES) and m.size <= MAX_FILE:
                    handle = tar.extractfile(m)
                    if handle is not None:
                        out.append((m.name.split("/", 1)[1], handle.read()))
    files = []
    for path, data in sorted(out):
        if "node_modules/" in path or path.endswith((".min.js", ".d.ts")) or len(data) > MAX_FILE:
            continue
        text = data.decode("utf-8", "replace").replace("\r\n", "\n")
        if "\ufffd" in text or max(map(len, text.split("\n")), default=0) > MAX_LINE:
            continue
        files.append((path, text))
    return files


def pieces(text: str) -> list[str]:
    """The file cut at blank lines into pieces of MIN_CHARS..MAX_CHARS characters (a block
    longer than MAX_CHARS is cut at a line)."""
    packed = pack([block.strip("\n") for block in text.split("\n\n")], MAX_CHARS)
    return [p.strip() for p in packed if len(p.strip()) >= MIN_CHARS]


def spread(items: list[Any], limit: int) -> list[Any]:
    """At most `limit` items, evenly spaced over the list (all of them when it is short)."""
    if len(items) <= limit:
        return items
    return [items[i * len(items) // limit] for i in range(limit)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="downloaded archives (reused)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    for archive in archives(args.cache, counts=counts):
        _, licence = (
            from_npm(archive.data) if archive.eco == "npm" else from_pypi(archive.filename, archive.data)
        )
        if not permissive(licence):
            counts["licence"] += 1
            continue
        found = [
            (path, i, piece) for path, text in source_files(archive) for i, piece in enumerate(pieces(text))
        ]
        if not found:
            counts["no code"] += 1
            continue
        counts["kept"] += 1
        for path, i, piece in spread(found, PER_PACKAGE):
            rid = hashlib.sha256(f"{archive.key}:{path}#{i}".encode()).hexdigest()[:16]
            rows.append(
                {
                    "id": f"code-{rid}",
                    "text": piece,
                    "label": 0,
                    "kind": "benign",
                    "family": FAMILY,
                    "carrier": CARRIER,
                    "lang": "en",
                    "source": f"{archive.key}:{path}",
                    "license": licence,
                    "archive_sha256": archive.sha256,
                    "split": split_of(archive.package),
                }
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows), "utf-8"
    )
    by_split = Counter(r["split"] for r in rows)
    print(
        f"packages kept {counts['kept']}, licence {counts['licence']}, no code {counts['no code']}, "
        f"excluded {counts['excluded']}, failed {counts['failed']}; rows {len(rows)} ({dict(by_split)}), "
        f"{sum(len(r['text']) for r in rows)} chars"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
