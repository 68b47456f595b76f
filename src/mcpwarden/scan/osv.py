"""Offline matching of pinned package versions against OSV advisories.

The database is whatever the user downloaded (a folder or a zip of OSV JSON files, as
the OSV project publishes per ecosystem); the scanner never fetches it, so scans stay
reproducible and work in air-gapped CI. Ranges are evaluated as the OSV schema says:
events sorted by version, `introduced` opens an affected interval, `fixed` closes it
before that version and `last_affected` closes it after. npm versions compare as
Semantic Versioning, PyPI versions as PEP 440 (via `packaging`).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from mcpwarden.detect.findings import Severity
from mcpwarden.scan.cvss import base_score, severity_of_score
from mcpwarden.scan.semver import InvalidSemver, SemVer

MAX_RECORD_BYTES = 8 * 1024 * 1024
_ECOSYSTEMS = {"npm": "npm", "pypi": "pypi"}
_GHSA_SEVERITY = {
    "LOW": Severity.LOW,
    "MODERATE": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "HIGH": Severity.HIGH,
    "CRITICAL": Severity.CRITICAL,
}


class OsvError(Exception):
    """The advisory database cannot be read (reported as an input error)."""


@dataclass(frozen=True, slots=True)
class Advisory:
    id: str
    summary: str
    aliases: tuple[str, ...]
    severity: Severity
    score: float | None
    fixed: tuple[str, ...]
    source: str


@dataclass(slots=True)
class _Affected:
    advisory: Advisory
    ranges: list[dict[str, Any]]
    versions: list[str]


@dataclass(slots=True)
class OsvDatabase:
    records: int = 0
    _index: dict[tuple[str, str], list[_Affected]] = field(default_factory=dict)

    @classmethod
    def load(cls, *paths: Path) -> OsvDatabase:
        """Read one or more databases (e.g. the npm and the PyPI export) into one index."""
        db = cls()
        for path in paths:
            db._add_path(path)
        return db

    def _add_path(self, path: Path) -> None:
        db = self
        if path.is_dir():
            for file in sorted(path.rglob("*.json")):
                try:
                    if file.stat().st_size > MAX_RECORD_BYTES:
                        raise OsvError(f"{file}: advisory larger than {MAX_RECORD_BYTES} bytes")
                    db._add_document(file.read_bytes(), str(file))
                except OSError as exc:
                    raise OsvError(f"{file}: cannot read: {exc.strerror or exc}") from None
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.is_dir() or not info.filename.endswith(".json"):
                        continue
                    if info.file_size > MAX_RECORD_BYTES:
                        raise OsvError(
                            f"{path}!{info.filename}: advisory larger than {MAX_RECORD_BYTES} bytes"
                        )
                    db._add_document(archive.read(info), f"{path}!{info.filename}")
        elif path.exists():
            raise OsvError(f"{path}: expected a directory or a zip file of OSV JSON records")
        else:
            raise OsvError(f"{path}: no such file or directory")

    def _add_document(self, data: bytes, source: str) -> None:
        try:
            doc = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise OsvError(f"{source}: invalid JSON: {exc}") from None
        for record in doc if isinstance(doc, list) else [doc]:
            if not isinstance(record, dict) or "id" not in record:
                raise OsvError(f"{source}: not an OSV record (no id)")
            self._add_record(record, source)

    def _add_record(self, record: dict[str, Any], source: str) -> None:
        if record.get("withdrawn"):
            return
        self.records += 1
        fixed = tuple(
            str(ev["fixed"])
            for aff in record.get("affected", [])
            for rng in aff.get("ranges", [])
            for ev in rng.get("events", [])
            if isinstance(ev, dict) and "fixed" in ev
        )
        severity, score = _severity(record)
        advisory = Advisory(
            id=str(record["id"]),
            summary=str(record.get("summary") or record.get("details", "")[:200]),
            aliases=tuple(str(a) for a in record.get("aliases", [])),
            severity=severity,
            score=score,
            fixed=fixed,
            source=source,
        )
        for aff in record.get("affected", []):
            pkg = aff.get("package") or {}
            eco = _ECOSYSTEMS.get(str(pkg.get("ecosystem", "")).split(":", 1)[0].lower())
            if eco is None or not pkg.get("name"):
                continue
            key = (eco, _normalize(eco, str(pkg["name"])))
            self._index.setdefault(key, []).append(
                _Affected(advisory, list(aff.get("ranges", [])), [str(v) for v in aff.get("versions", [])])
            )

    def lookup(self, ecosystem: str, name: str, version: str) -> list[Advisory]:
        """Advisories affecting exactly `name@version` in `ecosystem` ("npm" or "pypi")."""
        eco = _ECOSYSTEMS.get(ecosystem)
        if eco is None:
            return []
        parse = _parser(eco)
        try:
            target = parse(version)
        except (InvalidVersion, InvalidSemver):
            return []
        hits: list[Advisory] = []
        for affected in self._index.get((eco, _normalize(eco, name)), []):
            if affected.advisory in hits:
                continue
            if _listed(target, affected.versions, parse) or any(
                _in_range(target, rng, parse) for rng in affected.ranges
            ):
                hits.append(affected.advisory)
        return hits


def _normalize(eco: str, name: str) -> str:
    return canonicalize_name(name) if eco == "pypi" else name.lower()


def _parser(eco: str) -> Callable[[str], Any]:
    return Version if eco == "pypi" else SemVer.parse


def _listed(target: Any, versions: list[str], parse: Callable[[str], Any]) -> bool:
    for v in versions:
        try:
            if parse(v) == target:
                return True
        except (InvalidVersion, InvalidSemver):
            continue
    return False


def _events(rng: dict[str, Any], parse: Callable[[str], Any]) -> Iterator[tuple[Any, str]]:
    """(version or None for "0", kind) pairs; an unparsable version voids the range."""
    for ev in rng.get("events", []):
        if not isinstance(ev, dict) or len(ev) != 1:
            continue
        kind, raw = next(iter(ev.items()))
        if kind not in ("introduced", "fixed", "last_affected"):
            continue
        if kind == "introduced" and str(raw) == "0":
            yield None, kind
            continue
        yield parse(str(raw)), kind


def _in_range(target: Any, rng: dict[str, Any], parse: Callable[[str], Any]) -> bool:
    if rng.get("type") not in ("SEMVER", "ECOSYSTEM"):
        return False  # GIT ranges need commit history, which an offline scan has not got
    try:
        events = list(_events(rng, parse))
    except (InvalidVersion, InvalidSemver):
        return False
    order = {"introduced": 1, "last_affected": 2, "fixed": 0}
    events.sort(key=lambda e: (e[0] is not None, e[0] if e[0] is not None else 0, order[e[1]]))
    affected = False
    for version, kind in events:
        if kind == "introduced":
            if version is None or version <= target:
                affected = True
        elif kind == "fixed":
            if version <= target:
                affected = False
        elif kind == "last_affected" and version < target:
            affected = False
    return affected


def _severity(record: dict[str, Any]) -> tuple[Severity, float | None]:
    best: float | None = None
    for item in record.get("severity", []) or []:
        if isinstance(item, dict) and str(item.get("type", "")).startswith("CVSS_V3"):
            score = base_score(str(item.get("score", "")))
            if score is not None and (best is None or score > best):
                best = score
    if best is not None:
        return severity_of_score(best), best
    label = str((record.get("database_specific") or {}).get("severity", "")).upper()
    return _GHSA_SEVERITY.get(label, Severity.HIGH), None
