"""The fixture server passes the official conformance suite on its own.

This proves the fixture and the harness before the gateway is put between them: a failure in the
through-the-gateway runs can then be blamed on the gateway.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.fixture_process import demo_command, start_http_fixture, start_http_server
from conformance.harness import (
    DEFAULT_BASELINE,
    FAILURE,
    SUCCESS,
    SuiteResult,
    compare_with_baseline,
    run_suite,
)

pytestmark = pytest.mark.integration

# Scenarios `--requirements 2025-11-25` runs in @modelcontextprotocol/conformance 0.2.0-alpha.12
# (the 30 the revision requires, and three it runs unscored).
ACTIVE_SCENARIO_COUNT = 33


@pytest.fixture(scope="module")
def direct_result(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SuiteResult]:
    workdir: Path = tmp_path_factory.mktemp("conformance-direct")
    with start_http_fixture() as url:
        yield run_suite(url, requirements="2025-11-25", workdir=workdir)


def test_fixture_has_no_unexpected_failures_or_warnings(direct_result: SuiteResult) -> None:
    comparison = compare_with_baseline(direct_result, DEFAULT_BASELINE, target="direct")
    assert comparison.clean, f"{direct_result.summary()}\n{comparison.describe()}"


def test_every_active_scenario_ran(direct_result: SuiteResult) -> None:
    assert len(direct_result.scenarios) == ACTIVE_SCENARIO_COUNT, direct_result.scenarios


def test_every_scenario_has_a_successful_check(direct_result: SuiteResult) -> None:
    succeeded = {check.scenario for check in direct_result.checks if check.status == SUCCESS}
    assert [name for name in direct_result.scenarios if name not in succeeded] == []


def test_harness_reports_failure_from_a_server_without_the_scenario_resources(tmp_path: Path) -> None:
    with start_http_server(demo_command("http", sandbox=tmp_path / "notes")) as url:
        result = run_suite(url, scenario="resources-read-text", workdir=tmp_path)
    assert [(check.check, check.status) for check in result.problems] == [("resources-read-text", FAILURE)]
