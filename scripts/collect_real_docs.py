"""Benign documentation rows from the READMEs of published MCP servers: data/injection/real-readmes.jsonl.

Why: most benign training text is template-generated (scripts/corpus_benign.py), and the
text detector flags real documentation, above all documentation that talks about agents,
prompts and tools. A gateway relays exactly such text (a docs server, a repository read, a
package page), so real READMEs are the benign material the detector must learn to pass.

Sources: the npm and PyPI packages whose tools make tests/data/real_tools.jsonl, each at the
version recorded there (the list is scripts/real_tool_servers.py). Each package's published
archive is downloaded from its registry (npm: the registry tarball; PyPI: the wheel, else the
sdist), hashed, and checked against scripts/real_readmes_pins.json (package, version, archive
SHA-256); a differing archive is refused. Nothing is read from the building machine's own
installs. Kept out, as in tests/unit/tools/test_real_corpus.py: sources reserved for a separate
evaluation (github-mcp-server, awslabs) and deliberately vulnerable or malicious demo servers;
and every package whose licence (from the archive's own metadata) is not permissive.

The README (README.md / README.rst / README at the package root, or the wheel's METADATA long
description) is split at its top-level headings into documents of 200 to 8,000 characters,
code blocks kept. Row ids hash (package, version, index), so a rerun writes the same file.
Each row carries a `split`: `eval` for the third of the packages with crc32(package) % 3 == 0,
held out of any training, `train` for the rest.

    .venv/bin/python scripts/collect_real_docs.py [--cache DIR] [--out PATH] [--train-out PATH]
    .venv/bin/python scripts/collect_real_docs.py --update-pins   # record hashes of new packages
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import io
import json
import re
import sys
import tarfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_archives import DEFAULT_CACHE, ROOT, archives, split_of
from real_docs_licences import licence_files, licence_of_metadata, normalize_licence, permissive

DEFAULT_OUT = ROOT / "data" / "injection" / "real-readmes.jsonl"

MIN_CHARS, MAX_CHARS = 200, 8000  # characters per document
FAMILY = "real-readme"
CARRIER = "document"  # what the shared and hand-written rows call documentation


README_NAMES = re.compile(r"^readme(\.(md|markdown|rst|txt))?$", re.IGNORECASE)


def from_npm(data: bytes) -> tuple[str, str]:
    """(README text, licence) of an npm tarball (files under package/)."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if m.isfile() and "/" in m.name}
        pkg = json.loads(tar.extractfile(members["package.json"]).read())  # type: ignore[union-attr]
        readme = sorted(n for n in members if "/" not in n and README_NAMES.match(n))
        text = tar.extractfile(members[readme[0]]).read().decode("utf-8", "replace") if readme else ""  # type: ignore[union-attr]
        licence = pkg.get("license") or ""
        if isinstance(licence, dict):
            licence = licence.get("type", "")
        if not licence and isinstance(pkg.get("licenses"), list) and pkg["licenses"]:
            licence = " OR ".join(str(x.get("type", "")) for x in pkg["licenses"])
        licence = normalize_licence(str(licence))
        if not licence or licence.upper().startswith("SEE LICEN"):
            # package.json names no licence, or points at its licence file: read the file
            root = [n for n in members if "/" not in n]
            found = licence_files(root, lambda n: tar.extractfile(members[n]).read())  # type: ignore[union-attr]
            licence = f"{found} (LICENSE file)" if found else licence
    return text, licence


def from_pypi(filename: str, data: bytes) -> tuple[str, str]:
    """(README text, licence) of a wheel (METADATA body) or sdist (root README, else PKG-INFO body)."""
    parser = email.parser.Parser()
    if filename.endswith(".whl"):
        with zipfile.ZipFile(io.BytesIO(data)) as whl:
            name = next(n for n in sorted(whl.namelist()) if n.endswith(".dist-info/METADATA"))
            meta = parser.parsestr(whl.read(name).decode("utf-8", "replace"))
            licence = licence_of_metadata(meta)
            if not licence:  # no licence field: the licence files the wheel ships
                files = [n for n in whl.namelist() if ".dist-info/" in n]
                found = licence_files(files, whl.read)
                licence = f"{found} (LICENSE file)" if found else ""
        return str(meta.get_payload() or ""), licence
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if m.isfile() and "/" in m.name}
        meta = parser.parsestr(tar.extractfile(members["PKG-INFO"]).read().decode("utf-8", "replace"))  # type: ignore[union-attr]
        readme = sorted(n for n in members if "/" not in n and README_NAMES.match(n))
        text = tar.extractfile(members[readme[0]]).read().decode("utf-8", "replace") if readme else ""  # type: ignore[union-attr]
        licence = licence_of_metadata(meta)
        if not licence:
            root = [n for n in members if "/" not in n]
            found = licence_files(root, lambda n: tar.extractfile(members[n]).read())  # type: ignore[union-attr]
            licence = f"{found} (LICENSE file)" if found else ""
    return text or str(meta.get_payload() or ""), licence


# ---------------------------------------------------------------- splitting


FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^#{1,2}\s+\S")
RST_UNDERLINE = re.compile(r"^(={3,}|-{3,}|~{3,}|\*{3,})\s*$")


def sections(text: str) -> list[str]:
    """The README cut before each level-1/2 Markdown heading (or RST title), outside code fences."""
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[list[str]] = [[]]
    fenced = False
    for i, line in enumerate(lines):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            rst = i + 1 < len(lines) and RST_UNDERLINE.match(lines[i + 1]) and line.strip()
            if (HEADING.match(line) or rst) and out[-1]:
                out.append([])
        out[-1].append(line)
    return ["\n".join(s).strip() for s in out if "\n".join(s).strip()]


def blocks(section: str) -> list[str]:
    """A section's paragraphs, a fenced code block kept whole."""
    out: list[str] = []
    current: list[str] = []
    fenced = False
    for line in section.split("\n"):
        if FENCE.match(line):
            fenced = not fenced
        if not fenced and not line.strip():
            if current:
                out.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        out.append("\n".join(current))
    return out


def pack(parts: list[str], limit: int) -> list[str]:
    """Consecutive parts joined by blank lines into pieces of at most `limit` characters; a
    part longer than that is cut at a line (or at `limit` when no line ends in its second half)."""
    out: list[str] = []
    current = ""
    for block in parts:
        while len(block) > limit:
            cut = block.rfind("\n", 0, limit)
            cut = cut if cut > limit // 2 else limit
            if current:
                out.append(current)
                current = ""
            out.append(block[:cut])
            block = block[cut:].lstrip("\n")
        if current and len(current) + 2 + len(block) > limit:
            out.append(current)
            current = ""
        current = f"{current}\n\n{block}" if current else block
    if current:
        out.append(current)
    return out


def documents(text: str) -> list[str]:
    """Sections packed into documents of MIN_CHARS..MAX_CHARS: small ones joined to the next,
    large ones cut between paragraphs (a paragraph or code block longer than MAX_CHARS is cut
    at a line). The last short piece joins the one before it when that stays under the cap."""
    pieces: list[str] = []
    for sec in sections(text):
        if len(sec) <= MAX_CHARS:
            pieces.append(sec)
            continue
        pieces += pack(blocks(sec), MAX_CHARS)
    docs: list[str] = []
    pending = ""
    for piece in pieces:
        merged = f"{pending}\n\n{piece}" if pending else piece
        if len(merged) > MAX_CHARS:  # the pending small piece cannot join: flush it alone
            if pending:
                docs.append(pending)
            merged = piece
        if len(merged) < MIN_CHARS:
            pending = merged
            continue
        docs.append(merged)
        pending = ""
    if pending:
        if docs and len(docs[-1]) + 2 + len(pending) <= MAX_CHARS:
            docs[-1] = f"{docs[-1]}\n\n{pending}"
        else:
            docs.append(pending)
    return [d.strip() for d in docs if len(d.strip()) >= MIN_CHARS]


CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def language(text: str) -> str:
    """'en', or 'zh'/'ja'/'ko' when at least a fifth of the letters are of that script."""
    letters = sum(1 for ch in text if ch.isalpha()) or 1
    cjk = CJK.findall(text)
    if len(cjk) / letters < 0.2:
        return "en"
    if any("\u3040" <= c <= "\u30ff" for c in cjk):
        return "ja"
    if any("\uac00" <= c <= "\ud7af" for c in cjk):
        return "ko"
    return "zh"


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="downloaded archives (reused)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--train-out", type=Path, help="also write the rows of split=train here")
    parser.add_argument("--update-pins", action="store_true", help="record the hash of unpinned archives")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    for archive in archives(args.cache, update_pins=args.update_pins, counts=counts):  # type: ignore[arg-type]
        package, eco, version, key, digest = (
            archive.package,
            archive.eco,
            archive.version,
            archive.key,
            archive.sha256,
        )
        data = archive.data
        text, licence = from_npm(data) if eco == "npm" else from_pypi(archive.filename, data)
        if not permissive(licence):
            print(f"{package}@{version}: skipped, licence {licence or 'not stated'!r} is not permissive")
            counts["licence"] += 1
            continue
        docs = documents(text)
        if not docs:
            print(f"{package}@{version}: no README text ({len(text)} chars)")
            counts["empty"] += 1
            continue
        split = split_of(package)
        for i, doc in enumerate(docs):
            rid = hashlib.sha256(f"{key}#{i}".encode()).hexdigest()[:16]
            rows.append(
                {
                    "id": f"readme-{rid}",
                    "text": doc,
                    "label": 0,
                    "kind": "benign",
                    "family": FAMILY,
                    "carrier": CARRIER,
                    "lang": language(doc),
                    "source": f"{eco}:{package}@{version}",
                    "license": licence,
                    "archive_sha256": digest,
                    "split": split,
                }
            )
        counts["kept"] += 1
        print(f"{package}@{version}: {len(docs)} docs, {sum(map(len, docs))} chars, {licence}, {split}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r, ensure_ascii=False, sort_keys=True) for r in rows]
    args.out.write_text("".join(line + "\n" for line in lines), "utf-8")
    if args.train_out:
        train = [line for r, line in zip(rows, lines, strict=True) if r["split"] == "train"]
        args.train_out.write_text("".join(line + "\n" for line in train), "utf-8")
    by_split = Counter(r["split"] for r in rows)
    chars = sum(len(r["text"]) for r in rows)
    print(
        f"packages kept {counts['kept']}, licence {counts['licence']}, excluded {counts['excluded']}, "
        f"failed {counts['failed']}, empty {counts['empty']}; "
        f"rows {len(rows)} ({dict(by_split)}), {chars} chars"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
