"""One scan from start to end: find configs, read servers, check, optionally inspect."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from mcpwarden.detect.findings import Severity
from mcpwarden.scan.checks import CheckContext, run_static_checks
from mcpwarden.scan.formats import load_location, locate
from mcpwarden.scan.locations import ConfigLocation, Platform, discover
from mcpwarden.scan.model import Issue, ServerEntry
from mcpwarden.scan.osv import OsvDatabase

if TYPE_CHECKING:
    # The SDK client is imported only when a scan inspects servers: it is slow to import.
    from mcpwarden.scan.live import Inspection, ProgressHook


@dataclass(slots=True)
class ScanOptions:
    paths: list[Path] = field(default_factory=list)
    home: Path = field(default_factory=Path.home)
    platform: Platform = "linux"
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    project: Path | None = None
    osv: OsvDatabase | None = None
    inspect: bool = False
    timeout: float = 30.0
    pins: Path | None = None


@dataclass(slots=True)
class ScanReport:
    configs: list[ConfigLocation]
    servers: list[ServerEntry]
    issues: list[Issue]
    inspections: list[Inspection] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {str(s): 0 for s in sorted(Severity, reverse=True)}
        for issue in self.issues:
            out[str(issue.severity)] += 1
        return out

    def at_or_above(self, threshold: Severity) -> list[Issue]:
        return [i for i in self.issues if i.severity >= threshold]


def collect(options: ScanOptions) -> tuple[list[ConfigLocation], list[ServerEntry]]:
    """The config files to scan (explicit paths, else discovery) and their servers."""
    if options.paths:
        locations = [locate(p) for p in options.paths]
    else:
        locations = discover(options.home, options.platform, options.environ, options.project)
    servers: list[ServerEntry] = []
    for loc in locations:
        servers.extend(load_location(loc))
    return locations, servers


def _sorted_unique(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[object, ...]] = set()
    out: list[Issue] = []
    for i in issues:
        key = (i.rule_id, i.file, i.line, i.server, i.message)
        if key not in seen:
            seen.add(key)
            out.append(i)
    out.sort(key=lambda i: (-int(i.severity), str(i.file), i.line or 0, i.server or "", i.rule_id))
    return out


def live_issues(inspections: list[Inspection], pins: Path | None) -> list[Issue]:
    # Imported here: the detector and store are only needed when inspecting.
    from mcpwarden.scan.live_checks import cross_server_issues, failure_issue, pin_issues, poisoning_issues

    issues: list[Issue] = []
    for ins in inspections:
        failure = failure_issue(ins)
        if failure is not None:
            issues.append(failure)
            continue
        issues += poisoning_issues(ins)
    issues += cross_server_issues(inspections)
    if pins is not None:
        from mcpwarden.store import SQLiteStore

        store = SQLiteStore(pins)
        try:
            for ins in inspections:
                issues += pin_issues(ins, store)
        finally:
            store.close()
    return issues


def run_scan(options: ScanOptions, on_progress: ProgressHook | None = None) -> ScanReport:
    configs, servers = collect(options)
    ctx = CheckContext(home=options.home, osv=options.osv)
    issues = run_static_checks(servers, ctx)
    inspections: list[Inspection] = []
    startable = [s for s in servers if s.enabled]
    if options.inspect and startable:
        from mcpwarden.scan.live import inspect_all

        inspections = anyio.run(
            lambda: inspect_all(
                startable,
                timeout=options.timeout,
                environ=options.environ,
                home=str(options.home),
                on_progress=on_progress,
            )
        )
        issues += live_issues(inspections, options.pins)
    return ScanReport(configs, servers, _sorted_unique(issues), inspections)
