from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from mcpwarden.detect.findings import Severity
from mcpwarden.scan.cvss import base_score, severity_of_score
from mcpwarden.scan.osv import OsvDatabase, OsvError
from mcpwarden.scan.semver import SemVer


def _db(tmp_path: Path, *records: dict[str, object]) -> OsvDatabase:
    for i, record in enumerate(records):
        (tmp_path / f"r{i}.json").write_text(json.dumps(record))
    return OsvDatabase.load(tmp_path)


def _record(
    events: list[dict[str, str]], ecosystem: str = "npm", name: str = "pkg", **extra: object
) -> dict[str, object]:
    rng = {"type": "SEMVER" if ecosystem == "npm" else "ECOSYSTEM", "events": events}
    return {
        "id": "X-1",
        "affected": [{"package": {"ecosystem": ecosystem, "name": name}, "ranges": [rng]}],
        **extra,
    }


@pytest.mark.parametrize(
    ("version", "affected"),
    [("0.9.0", False), ("1.0.0", True), ("1.4.2", True), ("1.5.0", False), ("2.0.0", True), ("2.1.0", False)],
)
def test_introduced_fixed_and_last_affected_intervals(tmp_path: Path, version: str, affected: bool) -> None:
    db = _db(
        tmp_path,
        _record(
            [{"introduced": "1.0.0"}, {"fixed": "1.5.0"}, {"introduced": "2.0.0"}, {"last_affected": "2.0.0"}]
        ),
    )
    assert bool(db.lookup("npm", "pkg", version)) is affected


def test_introduced_zero_means_every_earlier_version(tmp_path: Path) -> None:
    db = _db(tmp_path, _record([{"introduced": "0"}, {"fixed": "1.0.0"}]))
    assert db.lookup("npm", "pkg", "0.0.1") and not db.lookup("npm", "pkg", "1.0.0")


def test_npm_prerelease_sorts_before_its_release(tmp_path: Path) -> None:
    db = _db(tmp_path, _record([{"introduced": "0"}, {"fixed": "2.0.0"}]))
    assert db.lookup("npm", "pkg", "2.0.0-rc.1")


def test_pypi_versions_compare_by_pep_440(tmp_path: Path) -> None:
    db = _db(tmp_path, _record([{"introduced": "0"}, {"fixed": "1.10"}], ecosystem="PyPI", name="Some_Pkg"))
    assert db.lookup("pypi", "some-pkg", "1.9.post1")
    assert not db.lookup("pypi", "some-pkg", "1.10.0")


def test_explicit_versions_list(tmp_path: Path) -> None:
    record = {
        "id": "X-2",
        "affected": [{"package": {"ecosystem": "npm", "name": "pkg"}, "versions": ["1.2.3"]}],
    }
    db = _db(tmp_path, record)
    assert db.lookup("npm", "pkg", "1.2.3") and not db.lookup("npm", "pkg", "1.2.4")


def test_other_ecosystems_and_packages_do_not_match(tmp_path: Path) -> None:
    db = _db(tmp_path, _record([{"introduced": "0"}]))
    assert not db.lookup("pypi", "pkg", "1.0.0")
    assert not db.lookup("npm", "other", "1.0.0")


def test_withdrawn_advisories_are_ignored(fixtures: Path) -> None:
    db = OsvDatabase.load(fixtures / "osv")
    assert db.lookup("npm", "@modelcontextprotocol/server-memory", "2026.8.31") == []


def test_zip_database_is_read(tmp_path: Path, fixtures: Path) -> None:
    archive = tmp_path / "npm.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in (fixtures / "osv").glob("*.json"):
            zf.write(path, path.name)
    db = OsvDatabase.load(archive)
    assert [a.id for a in db.lookup("npm", "@modelcontextprotocol/server-filesystem", "2026.8.31")] == [
        "MCPW-TEST-2026-0001"
    ]


def test_severity_from_cvss_vector_and_from_ghsa_label(fixtures: Path) -> None:
    db = OsvDatabase.load(fixtures / "osv")
    (fs,) = db.lookup("npm", "@modelcontextprotocol/server-filesystem", "2026.8.31")
    (time,) = db.lookup("pypi", "mcp-server-time", "2026.10.10")
    assert (fs.score, fs.severity) == (7.1, Severity.HIGH)
    assert time.severity == Severity.MEDIUM


def test_invalid_json_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(OsvError, match=r"bad\.json"):
        OsvDatabase.load(tmp_path)


def test_missing_database_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(OsvError, match="no such file"):
        OsvDatabase.load(tmp_path / "absent")


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
    ],
)
def test_cvss_base_scores_match_the_specification(vector: str, score: float) -> None:
    assert base_score(vector) == score


def test_cvss_v2_vector_is_not_scored() -> None:
    assert base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P") is None


def test_score_to_severity_bands() -> None:
    assert [severity_of_score(s) for s in (9.0, 7.0, 4.0, 0.1)] == [
        Severity.CRITICAL,
        Severity.HIGH,
        Severity.MEDIUM,
        Severity.LOW,
    ]


def test_semver_precedence_examples_from_the_specification() -> None:
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
    ]
    ordered += ["1.0.0-rc.1", "1.0.0", "2.0.0", "2.1.0", "2.1.1"]
    versions = [SemVer.parse(v) for v in ordered]
    assert sorted(reversed(versions)) == versions


def test_semver_build_metadata_is_ignored_for_precedence() -> None:
    assert SemVer.parse("1.0.0+build.5") == SemVer.parse("1.0.0")


def test_several_databases_are_merged(tmp_path: Path, fixtures: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "r.json").write_text(json.dumps(_record([{"introduced": "0"}], name="left-pad")))
    db = OsvDatabase.load(fixtures / "osv", other)
    assert db.lookup("npm", "left-pad", "1.3.0")
    assert db.lookup("pypi", "mcp-server-time", "2026.10.10")
