"""The human-readable report: servers found, then findings, worst first."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mcpwarden.detect.findings import Severity
from mcpwarden.scan.checks import masked_view
from mcpwarden.scan.runner import ScanReport

_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def render_table(report: ScanReport, console: Console) -> None:
    if not report.configs:
        console.print("No MCP client configuration found.")
        return
    servers = Table(title=f"MCP servers ({len(report.servers)} in {len(report.configs)} config files)")
    for column in ("Client", "Server", "Transport", "Launch / URL", "Env keys", "Config"):
        servers.add_column(column, overflow="fold")
    for entry in report.servers:
        args, url = masked_view(entry)
        launch = url if entry.command is None else " ".join([entry.command, *args])
        where = f"{entry.file}:{entry.line}" if entry.line else str(entry.file)
        name = f"{entry.name} [{entry.scope}]" if entry.scope else entry.name
        # Config text is attacker-controlled: Text cells are never parsed as rich markup.
        cells = (entry.client, name, entry.transport, launch or "", ", ".join(entry.env_keys), where)
        servers.add_row(*(Text(c) for c in cells))
    console.print(servers)
    if not report.issues:
        console.print(Text("No findings.", style="green"))
        return
    findings = Table(title=f"Findings ({len(report.issues)})")
    for column in ("Severity", "Rule", "Server", "Location", "Message"):
        findings.add_column(column, overflow="fold")
    for issue in report.issues:
        location = f"{issue.file}:{issue.line}" if issue.line else str(issue.file)
        findings.add_row(
            Text(str(issue.severity), style=_STYLE[issue.severity]),
            Text(issue.rule_id),
            Text(issue.server or ""),
            Text(location),
            Text(issue.message),
        )
    console.print(findings)
    summary = ", ".join(f"{n} {sev}" for sev, n in report.counts().items() if n)
    console.print(f"Summary: {summary}")
