"""The harness must count what the suite hides: warnings, and scenarios that wrote nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from conformance.harness import (
    FAILURE,
    SUCCESS,
    WARNING,
    CheckResult,
    SuiteResult,
    compare_with_baseline,
    load_baseline,
    read_checks,
    scenario_of_result_dir,
    scenarios_in_output,
)


def _write_checks(results: Path, scenario: str, checks: list[dict[str, str]]) -> None:
    folder = results / f"server-{scenario}-2026-11-27T05-05-48-181Z"
    folder.mkdir(parents=True)
    (folder / "checks.json").write_text(json.dumps(checks), encoding="utf-8")


def _result(*checks: CheckResult) -> SuiteResult:
    scenarios = tuple(dict.fromkeys(check.scenario for check in checks))
    return SuiteResult("http://127.0.0.1:1/mcp", "2025-11-25", scenarios, checks, exit_code=0, output="")


def _baseline(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "baseline.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_scenario_name_is_recovered_from_result_folder_with_dashes_in_it() -> None:
    assert scenario_of_result_dir("server-tools-call-with-progress-2026-11-27T05-05-48-181Z") == (
        "tools-call-with-progress"
    )


def test_folder_without_timestamp_is_not_taken_for_a_scenario() -> None:
    assert scenario_of_result_dir("server-ping") is None


def test_scenarios_are_read_from_suite_output_in_run_order() -> None:
    stdout = (
        "Running active suite\n\n=== Running scenario: ping ===\nx\n=== Running scenario: tools-list ===\n"
    )
    assert scenarios_in_output(stdout) == ["ping", "tools-list"]


def test_warning_checks_are_kept_alongside_successes(tmp_path: Path) -> None:
    _write_checks(
        tmp_path,
        "server-sse-polling",
        [
            {"id": "server-sse-priming-event", "status": "WARNING", "errorMessage": "no priming event"},
            {"id": "incoming-sse-event", "status": "INFO"},
            {"id": "server-sse-retry-field", "status": "SUCCESS"},
        ],
    )
    checks = read_checks(tmp_path, ["server-sse-polling"])
    assert [(c.check, c.status) for c in checks] == [
        ("server-sse-priming-event", WARNING),
        ("incoming-sse-event", "INFO"),
        ("server-sse-retry-field", SUCCESS),
    ]
    assert checks[0].message == "no priming event"


def test_scenario_that_wrote_no_results_counts_as_failure(tmp_path: Path) -> None:
    _write_checks(tmp_path, "ping", [{"id": "ping", "status": "SUCCESS"}])
    checks = read_checks(tmp_path, ["ping", "tools-list"])
    assert (
        CheckResult("tools-list", "scenario-results", FAILURE, "the suite wrote no checks.json for it")
        in checks
    )


def test_summary_counts_warnings_as_unclean() -> None:
    result = _result(
        CheckResult("ping", "ping", SUCCESS),
        CheckResult("server-sse-polling", "server-sse-retry-field", WARNING, "no retry"),
    )
    assert result.failing_scenarios() == ["server-sse-polling"]
    assert result.summary() == "1/2 scenarios clean; checks: 1 success, 0 failure, 1 warning"


def test_problem_missing_from_baseline_is_unexpected(tmp_path: Path) -> None:
    warning = CheckResult("server-sse-polling", "server-sse-retry-field", WARNING, "no retry")
    comparison = compare_with_baseline(_result(warning), _baseline(tmp_path, "[]\n"))
    assert comparison.unexpected == [warning]
    assert not comparison.clean


def test_problem_listed_in_baseline_is_expected(tmp_path: Path) -> None:
    warning = CheckResult("server-sse-polling", "server-sse-retry-field", WARNING, "no retry")
    baseline = _baseline(
        tmp_path,
        "- {scenario: server-sse-polling, check: server-sse-retry-field, status: WARNING,"
        " reason: the suite asks for protocol 2025-03-26}\n",
    )
    assert compare_with_baseline(_result(warning), baseline).clean


def test_baseline_status_must_match_exactly(tmp_path: Path) -> None:
    failure = CheckResult("ping", "ping", FAILURE, "timeout")
    baseline = _baseline(tmp_path, "- {scenario: ping, check: ping, status: WARNING, reason: slow}\n")
    comparison = compare_with_baseline(_result(failure), baseline)
    assert comparison.unexpected == [failure]
    assert [entry.check for entry in comparison.stale] == ["ping"]


def test_baseline_entry_whose_check_now_passes_is_stale(tmp_path: Path) -> None:
    baseline = _baseline(tmp_path, "- {scenario: ping, check: ping, status: FAILURE, reason: was broken}\n")
    comparison = compare_with_baseline(_result(CheckResult("ping", "ping", SUCCESS)), baseline)
    assert [entry.scenario for entry in comparison.stale] == ["ping"]


def test_baseline_entry_for_scenario_not_run_is_not_stale(tmp_path: Path) -> None:
    baseline = _baseline(
        tmp_path, "- {scenario: tools-list, check: tools-list, status: FAILURE, reason: x}\n"
    )
    assert compare_with_baseline(_result(CheckResult("ping", "ping", SUCCESS)), baseline).clean


def test_baseline_entry_limited_to_other_target_does_not_excuse_problem(tmp_path: Path) -> None:
    failure = CheckResult("ping", "ping", FAILURE, "timeout")
    baseline = _baseline(
        tmp_path, "- {scenario: ping, check: ping, status: FAILURE, reason: x, targets: [gateway-stdio]}\n"
    )
    assert compare_with_baseline(_result(failure), baseline, target="gateway-http").unexpected == [failure]


def test_baseline_entry_without_reason_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        load_baseline(_baseline(tmp_path, "- {scenario: ping, check: ping, status: FAILURE, reason: ''}\n"))


def test_shipped_baseline_is_valid() -> None:
    load_baseline(Path(__file__).with_name("baseline.yaml"))
