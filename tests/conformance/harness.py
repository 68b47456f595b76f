"""Run the official MCP conformance suite in server mode and read what it really concluded.

The suite (`@modelcontextprotocol/conformance`, pinned in package-lock.json) exits 0 and prints only
passes and failures even when checks end in WARNING, so its exit code and summary cannot be trusted
as a verdict. Here every check is read back from the per-scenario `checks.json` files it writes with
`--output-dir`, and compared with a baseline of known, explained failures.
"""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = REPO_ROOT / "node_modules" / ".bin"
SUITE_BIN = NODE_BIN / "conformance"
DEFAULT_BASELINE = Path(__file__).with_name("baseline.yaml")

# Statuses a check can end in; INFO entries are the suite's own traffic log, not verdicts.
SUCCESS = "SUCCESS"
FAILURE = "FAILURE"
WARNING = "WARNING"
INFO = "INFO"
PROBLEM_STATUSES = frozenset({FAILURE, WARNING})

SCENARIO_MARKER = "=== Running scenario: "
RESULT_DIR_PREFIX = "server-"
# The suite names each result folder `server-<scenario>-<ISO time with : and . as ->`,
# e.g. `server-ping-2026-11-27T05-05-48-181Z`; the timestamp part has this fixed length.
TIMESTAMP_SUFFIX_LEN = len("-2026-11-27T05-05-48-181Z")


class ConformanceRunError(RuntimeError):
    """The suite could not be run at all (missing Node tools, timeout): no verdict exists."""


@dataclass(frozen=True)
class CheckResult:
    scenario: str
    check: str
    status: str
    message: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.scenario, self.check, self.status)


@dataclass(frozen=True)
class SuiteResult:
    url: str
    spec_version: str | None
    scenarios: tuple[str, ...]
    checks: tuple[CheckResult, ...]
    exit_code: int
    output: str = field(repr=False)

    def counts(self) -> Counter[str]:
        """Number of checks per status, INFO included."""
        return Counter(check.status for check in self.checks)

    def with_status(self, status: str) -> list[CheckResult]:
        return [check for check in self.checks if check.status == status]

    @property
    def problems(self) -> list[CheckResult]:
        """Checks that ended in FAILURE or WARNING."""
        return [check for check in self.checks if check.status in PROBLEM_STATUSES]

    def failing_scenarios(self) -> list[str]:
        """Scenarios with at least one FAILURE or WARNING, in run order."""
        bad = {check.scenario for check in self.problems}
        return [name for name in self.scenarios if name in bad]

    def summary(self) -> str:
        counts = self.counts()
        clean = len(self.scenarios) - len(self.failing_scenarios())
        return (
            f"{clean}/{len(self.scenarios)} scenarios clean; checks: {counts[SUCCESS]} success, "
            f"{counts[FAILURE]} failure, {counts[WARNING]} warning"
        )


class BaselineEntry(BaseModel):
    """A known failure or warning, kept only with a reason so that nothing is silently tolerated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str = Field(min_length=1)
    check: str = Field(min_length=1)
    status: Literal["FAILURE", "WARNING"]
    reason: str = Field(min_length=1)
    # Limit an entry to some runs (e.g. "gateway-stdio"); None means every run.
    targets: tuple[str, ...] | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.scenario, self.check, self.status)

    def applies_to(self, target: str | None) -> bool:
        return self.targets is None or target is None or target in self.targets


@dataclass(frozen=True)
class BaselineComparison:
    unexpected: list[CheckResult]
    """FAILURE/WARNING checks that no baseline entry explains."""
    stale: list[BaselineEntry]
    """Baseline entries for scenarios that ran whose check did not end in the listed status."""

    @property
    def clean(self) -> bool:
        return not self.unexpected and not self.stale

    def describe(self) -> str:
        lines = [f"unexpected {c.status}: {c.scenario}/{c.check}: {c.message or ''}" for c in self.unexpected]
        lines += [f"stale baseline entry (now passes): {e.scenario}/{e.check} {e.status}" for e in self.stale]
        return "\n".join(lines) if lines else "matches baseline"


def suite_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment with the pinned Node 22 from node_modules/.bin first on PATH."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = os.pathsep.join([str(NODE_BIN), env.get("PATH", "")])
    return env


def run_suite(
    url: str,
    *,
    spec_version: str | None = "2025-11-25",
    workdir: Path,
    suite: str = "active",
    scenario: str | None = None,
    requirements: str | None = None,
    timeout_s: float = 300.0,
) -> SuiteResult:
    """Run the server-mode suite against `url` and return every check it recorded.

    `workdir` receives the suite's result folders (one per scenario) and its console output, so a
    failing test can point at them. With `scenario`, only that one scenario runs; with
    `requirements` (a revision such as "2026-07-28"), the scenarios that revision requires.
    """
    if not SUITE_BIN.exists():
        raise ConformanceRunError(
            f"{SUITE_BIN} is missing: install the Node test tools with `make install-node`"
        )
    results_dir = workdir / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    command = [str(SUITE_BIN), "server", "--url", url, "--output-dir", str(results_dir)]
    if scenario is not None:
        command += ["--scenario", scenario]
    elif requirements is not None:
        # Exactly the scenarios the revision requires (frozen at its release), plus the
        # ones it runs unscored; replaces --suite and --spec-version.
        command += ["--requirements", requirements]
    else:
        command += ["--suite", suite]
    if spec_version is not None and requirements is None:
        command += ["--spec-version", spec_version]
    try:
        completed = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=suite_environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ConformanceRunError(f"conformance suite did not finish within {timeout_s:.0f} s") from exc
    output = completed.stdout + completed.stderr
    (workdir / "suite-output.txt").write_text(output, encoding="utf-8")
    ran = [scenario] if scenario is not None else scenarios_in_output(completed.stdout)
    if not ran:
        raise ConformanceRunError(
            f"conformance suite ran no scenario (exit {completed.returncode}):\n{output}"
        )
    return SuiteResult(
        url=url,
        spec_version=requirements or spec_version,
        scenarios=tuple(ran),
        checks=tuple(read_checks(results_dir, ran)),
        exit_code=completed.returncode,
        output=output,
    )


def scenarios_in_output(stdout: str) -> list[str]:
    """Scenario names in the order the suite announced them."""
    names = []
    for line in stdout.splitlines():
        if line.startswith(SCENARIO_MARKER) and line.endswith(" ==="):
            names.append(line[len(SCENARIO_MARKER) : -len(" ===")])
    return names


def scenario_of_result_dir(name: str) -> str | None:
    """`server-ping-2026-11-27T05-05-48-181Z` -> `ping`; None for anything else."""
    if not name.startswith(RESULT_DIR_PREFIX) or len(name) <= len(RESULT_DIR_PREFIX) + TIMESTAMP_SUFFIX_LEN:
        return None
    suffix = name[-TIMESTAMP_SUFFIX_LEN:]
    if suffix[0] != "-" or suffix[11] != "T" or not suffix.endswith("Z"):
        return None
    return name[len(RESULT_DIR_PREFIX) : -TIMESTAMP_SUFFIX_LEN]


def read_checks(results_dir: Path, scenarios: Sequence[str]) -> list[CheckResult]:
    """Every check from the suite's result folders, plus a FAILURE for each scenario that left none.

    A scenario that crashed before writing results would otherwise simply vanish from the count.
    """
    by_scenario: dict[str, list[CheckResult]] = {}
    for folder in sorted(results_dir.iterdir()):
        name = scenario_of_result_dir(folder.name)
        checks_file = folder / "checks.json"
        if name is None or not checks_file.is_file():
            continue
        by_scenario.setdefault(name, []).extend(_parse_checks(name, checks_file))
    checks: list[CheckResult] = []
    for name in scenarios:
        found = by_scenario.pop(name, None)
        if found is None:
            found = [CheckResult(name, "scenario-results", FAILURE, "the suite wrote no checks.json for it")]
        checks.extend(found)
    for extra in by_scenario.values():  # left over from a reused workdir: still report them
        checks.extend(extra)
    return checks


def _parse_checks(scenario: str, path: Path) -> Iterable[CheckResult]:
    raw = orjson.loads(path.read_bytes())
    if not isinstance(raw, list):
        yield CheckResult(scenario, "scenario-results", FAILURE, f"{path} does not hold a list of checks")
        return
    for item in raw:
        if not isinstance(item, dict):
            yield CheckResult(scenario, "scenario-results", FAILURE, f"{path} holds a non-object check")
            continue
        message = item.get("errorMessage")
        yield CheckResult(
            scenario=scenario,
            check=str(item.get("id", "?")),
            status=str(item.get("status", FAILURE)),
            message=str(message) if message is not None else None,
        )


def load_baseline(path: Path) -> list[BaselineEntry]:
    """Read the baseline: a YAML list of {scenario, check, status, reason[, targets]}."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a YAML list of baseline entries")
    return [BaselineEntry.model_validate(item) for item in raw]


def compare_with_baseline(
    result: SuiteResult, baseline_path: Path = DEFAULT_BASELINE, *, target: str | None = None
) -> BaselineComparison:
    """Split the run's problems into explained and unexpected, and find entries that now pass.

    Only entries for scenarios that actually ran can be stale, so a single-scenario run does not
    flag the rest of the baseline. `target` names the run (e.g. "direct", "gateway-http") for
    entries that apply to some runs only.
    """
    entries = [entry for entry in load_baseline(baseline_path) if entry.applies_to(target)]
    expected = {entry.key for entry in entries}
    seen = {check.key for check in result.problems}
    unexpected = [check for check in result.problems if check.key not in expected]
    ran = set(result.scenarios)
    stale = [entry for entry in entries if entry.scenario in ran and entry.key not in seen]
    return BaselineComparison(unexpected=unexpected, stale=stale)


def assert_matches_baseline(
    result: SuiteResult, baseline_path: Path, *, target: str, scenario_count: int
) -> None:
    """Fail unless the run ran every expected scenario and failed exactly what the baseline lists.

    The scenario count guards against a run that silently shrank (a scenario the suite skipped
    cannot fail), which comparing problems alone would not notice."""
    assert len(result.scenarios) == scenario_count, result.summary()
    comparison = compare_with_baseline(result, baseline_path, target=target)
    assert comparison.clean, result.summary() + "\n" + comparison.describe()
