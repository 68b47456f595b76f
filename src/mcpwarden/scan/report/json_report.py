"""The JSON report: a stable, documented shape for scripts (see docs/scanner.md)."""

from __future__ import annotations

import json
from typing import Any

from mcpwarden import __version__
from mcpwarden.scan.checks import masked_view
from mcpwarden.scan.runner import ScanReport

JSON_FORMAT_VERSION = 1


def report_dict(report: ScanReport) -> dict[str, Any]:
    servers = []
    for entry in report.servers:
        args, url = masked_view(entry)
        servers.append(entry.to_public_dict(args, url))
    out: dict[str, Any] = {
        "tool": {"name": "mcpwarden", "version": __version__},
        "format_version": JSON_FORMAT_VERSION,
        "configs": [{"client": c.client, "path": str(c.path), "scope": c.scope} for c in report.configs],
        "servers": servers,
        "findings": [i.to_dict() for i in report.issues],
        "summary": report.counts(),
    }
    if report.inspections:
        out["inspections"] = [ins.to_dict() for ins in report.inspections]
    return out


def render_json(report: ScanReport) -> str:
    return json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"
