"""The official MCP conformance suite, run against the gateway in front of the fixture
server: once with the fixture as an HTTP upstream and once as a stdio upstream."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.fixture_process import fixture_command, start_http_fixture
from conformance.harness import compare_with_baseline, run_suite
from gwtest.procs import gateway, http_upstream

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _check(url: str, target: str, workdir: Path) -> None:
    result = run_suite(url, requirements="2025-11-25", workdir=workdir)
    comparison = compare_with_baseline(result, target=target)
    assert comparison.clean, result.summary() + "\n" + comparison.describe()
    # All 33 scenarios of the requirement set ran, and nothing ended in a failure or a warning.
    assert len(result.scenarios) == 33, result.summary()
    counts = result.counts()
    assert counts["FAILURE"] == 0 and counts["WARNING"] == 0 and counts["SUCCESS"] > 0, result.summary()


@pytest.mark.timeout(300)
def test_conformance_suite_passes_through_gateway_with_http_upstream(tmp_path: Path) -> None:
    with (
        start_http_fixture() as upstream_url,
        gateway({"upstreams": {"fx": http_upstream(upstream_url)}}) as gw,
    ):
        _check(gw.url("fx"), "gateway-http", tmp_path)


@pytest.mark.timeout(300)
def test_conformance_suite_passes_through_gateway_with_stdio_upstream(tmp_path: Path) -> None:
    argv = fixture_command("stdio")
    upstream = {"transport": "stdio", "command": argv[0], "args": argv[1:], "content": "off"}
    with gateway({"upstreams": {"fx": upstream}}) as gw:
        _check(gw.url("fx"), "gateway-stdio", tmp_path)
