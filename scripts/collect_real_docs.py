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
import time
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_docs_licences import licence_files, licence_of_metadata, normalize_licence, permissive
from real_tool_servers import RESERVED

ROOT = Path(__file__).resolve().parent.parent
REAL_TOOLS = ROOT / "tests" / "data" / "real_tools.jsonl"
PINS_FILE = Path(__file__).resolve().parent / "real_readmes_pins.json"
DEFAULT_OUT = ROOT / "data" / "injection" / "real-readmes.jsonl"
DEFAULT_CACHE = Path("/tmp/mcpwarden-real-docs")

MIN_CHARS, MAX_CHARS = 200, 8000  # characters per document
FAMILY = "real-readme"
CARRIER = "document"  # what the shared and hand-written rows call documentation
UA = {"User-Agent": "mcpwarden-collect-real-docs (https://github.com/mcpwarden)"}


def excluded(package: str) -> bool:
    return any(x in package for x in RESERVED)


def packages() -> list[tuple[str, str, str]]:
    """(package, ecosystem, version) of every collected tool server, sorted."""
    found: dict[tuple[str, str], set[str]] = {}
    for line in REAL_TOOLS.read_text("utf-8").splitlines():
        row = json.loads(line)
        found.setdefault((row["package"], row["ecosystem"]), set()).add(row["version"])
    out = []
    for (package, eco), versions in sorted(found.items()):
        if len(versions) != 1:
            raise SystemExit(f"{package}: several versions in {REAL_TOOLS}: {sorted(versions)}")
        out.append((package, eco, versions.pop()))
    return out


def get(url: str) -> bytes:
    for attempt in range(3):
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=UA), timeout=120) as r:
                return bytes(r.read())
        except OSError:
            if attempt == 2:
                raise
            time.sleep(2 * (attempt + 1))
    raise AssertionError


# ---------------------------------------------------------------- archives


def npm_archive(package: str, version: str) -> tuple[str, bytes]:
    meta = json.loads(get(f"https://registry.npmjs.org/{urllib.parse.quote(package, safe='@')}/{version}"))
    url = meta["dist"]["tarball"]
    return url, get(url)


def pypi_archive(package: str, version: str) -> tuple[str, bytes]:
    meta = json.loads(get(f"https://pypi.org/pypi/{package}/json"))
    files = meta["releases"].get(version) or []
    wheels = sorted((f for f in files if f["packagetype"] == "bdist_wheel"), key=lambda f: f["filename"])
    sdists = sorted((f for f in files if f["packagetype"] == "sdist"), key=lambda f: f["filename"])
    pick = (wheels or sdists or [None])[0]
    if pick is None:
        raise RuntimeError(f"no wheel or sdist for {package}=={version} on PyPI")
    url = urllib.parse.urljoin(f"https://pypi.org/pypi/{package}/json", pick["url"])
    data = get(url)
    if hashlib.sha256(data).hexdigest() != pick["digests"]["sha256"]:
        raise RuntimeError(f"{pick['filename']}: SHA-256 differs from the one PyPI publishes")
    return url, data


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


def documents(text: str) -> list[str]:
    """Sections packed into documents of MIN_CHARS..MAX_CHARS: small ones joined to the next,
    large ones cut between paragraphs (a paragraph or code block longer than MAX_CHARS is cut
    at a line). The last short piece joins the one before it when that stays under the cap."""
    pieces: list[str] = []
    for sec in sections(text):
        if len(sec) <= MAX_CHARS:
            pieces.append(sec)
            continue
        current = ""
        for block in blocks(sec):
            while len(block) > MAX_CHARS:
                cut = block.rfind("\n", 0, MAX_CHARS)
                cut = cut if cut > MAX_CHARS // 2 else MAX_CHARS
                if current:
                    pieces.append(current)
                    current = ""
                pieces.append(block[:cut])
                block = block[cut:].lstrip("\n")
            if current and len(current) + 2 + len(block) > MAX_CHARS:
                pieces.append(current)
                current = ""
            current = f"{current}\n\n{block}" if current else block
        if current:
            pieces.append(current)
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


def split_of(package: str) -> str:
    return "eval" if zlib.crc32(package.encode("utf-8")) % 3 == 0 else "train"


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="downloaded archives (reused)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--train-out", type=Path, help="also write the rows of split=train here")
    parser.add_argument("--update-pins", action="store_true", help="record the hash of unpinned archives")
    args = parser.parse_args()
    pins: dict[str, dict[str, str]] = json.loads(PINS_FILE.read_text("utf-8")) if PINS_FILE.exists() else {}
    args.cache.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    for package, eco, version in packages():
        if excluded(package):
            print(f"{package}@{version}: excluded (reserved or not benign)")
            counts["excluded"] += 1
            continue
        key = f"{eco}:{package}@{version}"
        cached = args.cache / (hashlib.sha256(key.encode()).hexdigest()[:16] + ".json")
        if cached.exists():
            info = json.loads(cached.read_text("utf-8"))
            data = (args.cache / info["file"]).read_bytes()
        else:
            try:
                url, data = npm_archive(package, version) if eco == "npm" else pypi_archive(package, version)
            except Exception as exc:  # a package that fails is reported, not fatal
                print(f"{package}@{version}: download failed: {exc}")
                counts["failed"] += 1
                continue
            info = {"url": url, "file": cached.stem + "-" + url.rsplit("/", 1)[1]}
            (args.cache / info["file"]).write_bytes(data)
            cached.write_text(json.dumps(info), "utf-8")
        digest = hashlib.sha256(data).hexdigest()
        pin = pins.get(key)
        if pin is None:
            if not args.update_pins:
                raise SystemExit(f"{key}: not pinned in {PINS_FILE} (rerun with --update-pins to record it)")
            pins[key] = pin = {"url": info["url"], "sha256": digest}
        if pin["sha256"] != digest:
            raise SystemExit(f"{key}: archive SHA-256 {digest} differs from the pinned {pin['sha256']}")
        filename = info["url"].rsplit("/", 1)[1]
        text, licence = from_npm(data) if eco == "npm" else from_pypi(filename, data)
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
    if args.update_pins:
        PINS_FILE.write_text(json.dumps(dict(sorted(pins.items())), indent=1) + "\n", "utf-8")
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
