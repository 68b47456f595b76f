"""The published archives of the real-tool corpus's packages, downloaded once and checked.

Shared by the real-corpus collectors (`collect_real_docs.py` for READMEs,
`collect_real_code.py` for source files): the npm and PyPI packages whose tools make
tests/data/real_tools.jsonl, each at the version recorded there. An archive (npm: the registry
tarball; PyPI: the first wheel, else the sdist, whose hash PyPI also publishes) is downloaded,
cached, hashed and checked against scripts/real_readmes_pins.json; a differing archive is
refused, an unpinned one only recorded with `update_pins`. Sources reserved for a separate
evaluation and deliberately malicious servers (`real_tool_servers.RESERVED`) are never read.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from real_tool_servers import RESERVED

ROOT = Path(__file__).resolve().parent.parent
REAL_TOOLS = ROOT / "tests" / "data" / "real_tools.jsonl"
PINS_FILE = Path(__file__).resolve().parent / "real_readmes_pins.json"
DEFAULT_CACHE = Path("/tmp/mcpwarden-real-docs")
UA = {"User-Agent": "mcpwarden-collect-real-docs (https://github.com/mcpwarden)"}


@dataclass(frozen=True, slots=True)
class Archive:
    package: str
    eco: str  # "npm" or "pypi"
    version: str
    url: str
    data: bytes
    sha256: str

    @property
    def key(self) -> str:
        return f"{self.eco}:{self.package}@{self.version}"

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[1]


def excluded(package: str) -> bool:
    return any(x in package for x in RESERVED)


def split_of(package: str) -> str:
    """`eval` for the third of the packages held out of any training, else `train`."""
    return "eval" if zlib.crc32(package.encode("utf-8")) % 3 == 0 else "train"


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


def archives(
    cache: Path, *, update_pins: bool = False, counts: dict[str, int] | None = None
) -> Iterator[Archive]:
    """Every package's checked archive, in order; excluded and failed packages are reported
    (and counted in `counts`) and skipped. With `update_pins`, unpinned archives are recorded
    in PINS_FILE once the iteration ends."""
    counts = counts if counts is not None else {}
    pins: dict[str, dict[str, str]] = json.loads(PINS_FILE.read_text("utf-8")) if PINS_FILE.exists() else {}
    cache.mkdir(parents=True, exist_ok=True)
    for package, eco, version in packages():
        if excluded(package):
            print(f"{package}@{version}: excluded (reserved or not benign)")
            counts["excluded"] = counts.get("excluded", 0) + 1
            continue
        key = f"{eco}:{package}@{version}"
        cached = cache / (hashlib.sha256(key.encode()).hexdigest()[:16] + ".json")
        if cached.exists():
            info = json.loads(cached.read_text("utf-8"))
            data = (cache / info["file"]).read_bytes()
        else:
            try:
                url, data = npm_archive(package, version) if eco == "npm" else pypi_archive(package, version)
            except Exception as exc:  # a package that fails is reported, not fatal
                print(f"{package}@{version}: download failed: {exc}")
                counts["failed"] = counts.get("failed", 0) + 1
                continue
            info = {"url": url, "file": cached.stem + "-" + url.rsplit("/", 1)[1]}
            (cache / info["file"]).write_bytes(data)
            cached.write_text(json.dumps(info), "utf-8")
        digest = hashlib.sha256(data).hexdigest()
        pin = pins.get(key)
        if pin is None:
            if not update_pins:
                raise SystemExit(f"{key}: not pinned in {PINS_FILE} (rerun with --update-pins to record it)")
            pins[key] = pin = {"url": info["url"], "sha256": digest}
        if pin["sha256"] != digest:
            raise SystemExit(f"{key}: archive SHA-256 {digest} differs from the pinned {pin['sha256']}")
        yield Archive(package, eco, version, info["url"], data, digest)
    if update_pins:
        PINS_FILE.write_text(json.dumps(dict(sorted(pins.items())), indent=1) + "\n", "utf-8")
