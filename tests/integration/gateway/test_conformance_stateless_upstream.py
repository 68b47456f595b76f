"""The official conformance suite's 2026-07-28 requirement set against a 2026-era fixture: the
conformance fixture run with `--era stateless` (it then serves 2026-07-28 itself), once directly and
once through the gateway with the fixture as an `era: stateless` upstream over HTTP and over stdio.
Through the gateway the suite's stateless requests cross the whole bridge: the gateway's stateless
front, its pooled session, and `gateway/upstream/stateless.py` towards the 2026 upstream.

baseline-2026-07-28-stateless-upstream.yaml lists every check that fails, each with its reason; the
entries that apply to the gateway runs must also fail in the direct run, so none is the gateway's
doing. (test_conformance_stateless.py covers the other direction: a 2025-11-25-only fixture.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.fixture_process import fixture_command, start_http_fixture
from conformance.harness import SuiteResult, assert_matches_baseline, load_baseline, run_suite
from gwtest.procs import gateway, http_upstream

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REVISION = "2026-07-28"
BASELINE = Path(__file__).resolve().parents[2] / "conformance" / "baseline-2026-07-28-stateless-upstream.yaml"
# Scenarios `--requirements 2026-07-28` runs in 0.2.0-alpha.12 (required and unscored ones).
SCENARIO_COUNT = 50
GATEWAY_TARGETS = ("gateway-http", "gateway-stdio")


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory) -> SuiteResult:
    with start_http_fixture(era="stateless") as url:
        return run_suite(url, requirements=REVISION, workdir=tmp_path_factory.mktemp("direct-2026-era"))


@pytest.fixture(scope="module")
def through_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SuiteResult]:
    with (
        start_http_fixture(era="stateless") as upstream,
        gateway({"upstreams": {"fx": http_upstream(upstream, era="stateless")}}) as gw,
    ):
        workdir = tmp_path_factory.mktemp("gw-http-2026-era")
        yield run_suite(gw.url("fx"), requirements=REVISION, workdir=workdir)


@pytest.fixture(scope="module")
def through_stdio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SuiteResult]:
    argv = fixture_command("stdio", era="stateless")
    upstream = {"transport": "stdio", "command": argv[0], "args": argv[1:], "content": "off"}
    with gateway({"upstreams": {"fx": {**upstream, "era": "stateless"}}}) as gw:
        workdir = tmp_path_factory.mktemp("gw-stdio-2026-era")
        yield run_suite(gw.url("fx"), requirements=REVISION, workdir=workdir)


@pytest.mark.timeout(300)
def test_stateless_fixture_fails_only_its_baselined_checks_directly(direct: SuiteResult) -> None:
    assert_matches_baseline(direct, BASELINE, target="direct", scenario_count=SCENARIO_COUNT)


@pytest.mark.timeout(300)
def test_stateless_requirements_pass_through_gateway_to_stateless_http_upstream(
    through_http: SuiteResult,
) -> None:
    assert_matches_baseline(through_http, BASELINE, target="gateway-http", scenario_count=SCENARIO_COUNT)


@pytest.mark.timeout(300)
def test_stateless_requirements_pass_through_gateway_to_stateless_stdio_upstream(
    through_stdio: SuiteResult,
) -> None:
    assert_matches_baseline(through_stdio, BASELINE, target="gateway-stdio", scenario_count=SCENARIO_COUNT)


@pytest.mark.timeout(300)
def test_every_check_baselined_for_the_gateway_also_fails_directly(direct: SuiteResult) -> None:
    failing_directly = {(check.scenario, check.check) for check in direct.problems}
    listed = {
        (entry.scenario, entry.check)
        for entry in load_baseline(BASELINE)
        if any(entry.applies_to(target) for target in GATEWAY_TARGETS)
    }
    assert sorted(listed - failing_directly) == []
