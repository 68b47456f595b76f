"""`mcpwarden scan`: audit MCP client configs (and optionally the live servers) for CI.

Contract (design section 4): `mcpwarden scan [CONFIG ...] --format table|json|sarif
[--fail-on SEVERITY]`; exit 0 when nothing at or above the threshold was found, 1 when
something was, 2 for unusable input, with a message naming the file and line.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcpwarden.cli import EXIT_FINDINGS, EXIT_OK, UsageError
from mcpwarden.detect.findings import Severity
from mcpwarden.scan.locations import PLATFORMS, normalize_platform

if TYPE_CHECKING:
    # Every `mcpwarden` command builds this parser; the scanner itself loads only for `scan`.
    from mcpwarden.scan.live import Inspection
    from mcpwarden.scan.model import ServerEntry
    from mcpwarden.scan.runner import ScanOptions, ScanReport

FORMATS = ("table", "json", "sarif")
FAIL_ON = ("info", "low", "medium", "high", "critical")


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "scan",
        help="audit MCP client configs and servers (table, JSON, SARIF, CycloneDX)",
        description=(
            "Find MCP client configs (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf, Gemini CLI, "
            "Codex) or read the CONFIG files given, and report risky servers. Exit 0: nothing at or above "
            "--fail-on; 1: findings at or above it; 2: unusable input."
        ),
    )
    p.add_argument("configs", nargs="*", type=Path, metavar="CONFIG", help="config files (default: discover)")
    p.add_argument("--format", choices=FORMATS, default="table", help="report format (default: table)")
    p.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="low",
        help="lowest severity that makes the exit code 1 (default: low)",
    )
    p.add_argument("--output", "-o", type=Path, help="write the report to this file instead of stdout")
    p.add_argument(
        "--sbom", type=Path, help="also write a CycloneDX 1.6 JSON SBOM of the servers to this file"
    )
    p.add_argument(
        "--osv-db",
        type=Path,
        action="append",
        help="OSV advisories (directory or zip of JSON) for known-vulnerable versions; repeatable",
    )
    p.add_argument(
        "--inspect", action="store_true", help="start/connect to each server and check what it offers"
    )
    p.add_argument(
        "--timeout", type=float, default=30.0, help="seconds per server for --inspect (default: 30)"
    )
    p.add_argument(
        "--pins", type=Path, help="pin store (SQLite) to compare live definitions with (--inspect)"
    )
    p.add_argument("--home", type=Path, help="home directory to discover configs in (default: yours)")
    p.add_argument(
        "--platform",
        choices=PLATFORMS,
        default=None,
        help="config layout to discover (default: this machine's)",
    )
    p.add_argument(
        "--project", type=Path, help="project folder for .mcp.json, .vscode/… (default: current dir)"
    )
    p.add_argument("--no-project", action="store_true", help="skip project-level configs during discovery")
    p.add_argument(
        "--quiet", "-q", action="store_true", help="do not list the places discovery looked (stderr)"
    )
    p.add_argument(
        "--base-dir", type=Path, help="paths in SARIF are relative to this folder (default: current dir)"
    )
    p.set_defaults(handler=run)


def _options(args: argparse.Namespace) -> ScanOptions:
    from mcpwarden.scan.osv import OsvDatabase, OsvError
    from mcpwarden.scan.runner import ScanOptions

    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    if args.pins is not None and not args.inspect:
        raise UsageError("--pins needs --inspect: pins are compared with live definitions")
    if args.pins is not None and not args.pins.is_file():
        raise UsageError(f"{args.pins}: pin store not found")
    osv = None
    if args.osv_db:
        try:
            osv = OsvDatabase.load(*args.osv_db)
        except OsvError as exc:
            raise UsageError(str(exc)) from None
    home = args.home if args.home is not None else Path.home()
    if args.home is not None and not home.is_dir():
        raise UsageError(f"{home}: --home is not a directory")
    project = None if args.no_project else (args.project or Path.cwd())
    return ScanOptions(
        paths=list(args.configs),
        home=home,
        platform=normalize_platform(args.platform or sys.platform),
        environ=dict(os.environ),
        project=project,
        osv=osv,
        inspect=args.inspect,
        timeout=args.timeout,
        pins=args.pins,
    )


def _render(report: ScanReport, fmt: str, base: Path | None, to_file: bool) -> str:
    from mcpwarden.scan.report import render_json, render_sarif, render_table

    if fmt == "json":
        return render_json(report)
    if fmt == "sarif":
        return render_sarif(report, base)
    from rich.console import Console

    if to_file:
        buffer = io.StringIO()
        render_table(report, Console(file=buffer, width=200, no_color=True, force_terminal=False))
        return buffer.getvalue()
    render_table(report, Console())
    return ""


def _run_with_progress(options: ScanOptions) -> ScanReport:
    """Run the scan, with a progress bar on stderr while servers are inspected (TTY only)."""
    from mcpwarden.scan.runner import run_scan

    if not (options.inspect and sys.stderr.isatty()):
        return run_scan(options)
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("inspecting servers", total=None)

        def hook(entry: ServerEntry, result: Inspection | None, total: int) -> None:
            if result is None:
                progress.update(task, total=total, description=f"inspecting {entry.name}")
            else:
                progress.advance(task)

        return run_scan(options, hook)


def where_looked(options: ScanOptions) -> str:
    """Every config file discovery checked, found or not, so an empty report is explained."""
    from mcpwarden.scan.locations import project_locations, user_locations

    candidates = user_locations(options.home, options.platform, options.environ)
    if options.project is not None:
        candidates += project_locations(options.project)
    lines = ["looked for MCP client configs in:"]
    for loc in candidates:
        try:
            state = "found  " if loc.path.is_file() else "absent "
        except OSError:
            state = "unreadable"
        lines.append(f"  {state} {loc.client:<15} {loc.path}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from mcpwarden.scan.model import ConfigError

    options = _options(args)
    if not options.paths and not args.quiet:
        sys.stderr.write(where_looked(options))
    try:
        report = _run_with_progress(options)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    text = _render(report, args.format, args.base_dir, to_file=args.output is not None)
    try:
        if args.output is not None:
            args.output.write_text(text, encoding="utf-8")
        elif text:
            sys.stdout.write(text)
        if args.sbom is not None:
            from mcpwarden.scan.report import render_sbom

            args.sbom.write_text(render_sbom(report), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write report: {exc}") from None
    threshold = Severity.parse(args.fail_on)
    return EXIT_FINDINGS if report.at_or_above(threshold) else EXIT_OK
