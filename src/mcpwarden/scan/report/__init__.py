"""Renderings of a `ScanReport`: a terminal table, JSON, SARIF 2.1.0 and a CycloneDX SBOM."""

from mcpwarden.scan.report.json_report import render_json, report_dict
from mcpwarden.scan.report.sarif import render_sarif, sarif_log
from mcpwarden.scan.report.sbom import build_bom, render_sbom
from mcpwarden.scan.report.table import render_table

__all__ = [
    "build_bom",
    "render_json",
    "render_sarif",
    "render_sbom",
    "render_table",
    "report_dict",
    "sarif_log",
]
