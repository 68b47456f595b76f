"""The official conformance suite's 2026-07-28 requirement set, through the gateway in front of the
(2025-11-25) fixture server over HTTP and over stdio: the gateway serves the stateless era to the
suite while it speaks the handshake era upstream. What still fails is listed in
baseline-2026-07-28.yaml, and the direct run of the same fixture fails every listed scenario too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.fixture_process import fixture_command, start_http_fixture
from conformance.harness import SuiteResult, assert_matches_baseline, load_baseline, run_suite
from gwtest.procs import gateway, http_upstream

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REVISION = "2026-07-28"
BASELINE = Path(__file__).resolve().parents[2] / "conformance" / "baseline-2026-07-28.yaml"
# Scenarios `--requirements 2026-07-28` runs in 0.2.0-alpha.12 (required and unscored ones).
SCENARIO_COUNT = 50


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory) -> SuiteResult:
    with start_http_fixture() as url:
        return run_suite(url, requirements=REVISION, workdir=tmp_path_factory.mktemp("direct-2026"))


@pytest.fixture(scope="module")
def through_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SuiteResult]:
    with start_http_fixture() as upstream, gateway({"upstreams": {"fx": http_upstream(upstream)}}) as gw:
        yield run_suite(gw.url("fx"), requirements=REVISION, workdir=tmp_path_factory.mktemp("gw-http-2026"))


@pytest.fixture(scope="module")
def through_stdio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SuiteResult]:
    argv = fixture_command("stdio")
    upstream = {"transport": "stdio", "command": argv[0], "args": argv[1:], "content": "off"}
    with gateway({"upstreams": {"fx": upstream}}) as gw:
        yield run_suite(gw.url("fx"), requirements=REVISION, workdir=tmp_path_factory.mktemp("gw-stdio-2026"))


@pytest.mark.timeout(300)
def test_stateless_requirements_pass_through_gateway_with_http_upstream(through_http: SuiteResult) -> None:
    assert_matches_baseline(through_http, BASELINE, target="gateway-http", scenario_count=SCENARIO_COUNT)


@pytest.mark.timeout(300)
def test_stateless_requirements_pass_through_gateway_with_stdio_upstream(through_stdio: SuiteResult) -> None:
    assert_matches_baseline(through_stdio, BASELINE, target="gateway-stdio", scenario_count=SCENARIO_COUNT)


@pytest.mark.timeout(300)
def test_server_stateless_scenario_is_fully_clean_through_gateway(through_http: SuiteResult) -> None:
    problems = [c for c in through_http.problems if c.scenario == "server-stateless"]
    assert problems == [], problems


@pytest.mark.timeout(300)
def test_every_baselined_scenario_also_fails_without_the_gateway(direct: SuiteResult) -> None:
    failing_directly = set(direct.failing_scenarios())
    listed = {entry.scenario for entry in load_baseline(BASELINE)}
    assert sorted(listed - failing_directly) == []
