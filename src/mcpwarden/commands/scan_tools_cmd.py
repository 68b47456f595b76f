"""`mcpwarden scan-tools`: score JSONL rows of MCP tool definitions for poisoning.

Contract (design section 4), relied on by external evaluation: rows with `id` and `tool`
in, one `{"id", "score", "flagged", "findings": [{"rule", "severity", "message", "path"}]}`
per row out, in input order. Exit 0 whenever the input could be processed, 2 with a
message naming the bad line otherwise. The whole input is validated before anything is
written, so a bad line never leaves a half-written output file.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcpwarden.cli import EXIT_OK, UsageError
from mcpwarden.commands.jsonl_io import read_rows, write_rows

if TYPE_CHECKING:
    from mcpwarden.detect.findings import Detection

# Equal to mcpwarden.detect.tools.DEFAULT_THRESHOLD (a unit test checks): repeated here so that
# `scan-tools --help` does not load the detector.
DEFAULT_THRESHOLD = 0.5


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "scan-tools",
        help="score JSONL rows of MCP tool definitions for tool poisoning",
        description="Read JSONL rows with `id` and `tool` (an MCP tool object); write one verdict per row.",
    )
    parser.add_argument("--input", metavar="FILE.jsonl", help="rows with `id` and `tool` (default: stdin)")
    parser.add_argument("--output", metavar="OUT.jsonl", help="where to write verdicts (default: stdout)")
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        metavar="T",
        help=f"flag tools scoring at or above T, in [0, 1] (default {DEFAULT_THRESHOLD})",
    )
    parser.set_defaults(handler=run)


def verdict(row_id: Any, detection: Detection) -> dict[str, Any]:
    return {
        "id": row_id,
        "score": round(detection.score, 4),
        "flagged": detection.flagged,
        "findings": [
            {"rule": f.rule, "severity": str(f.severity), "message": f.message, "path": f.path or "$"}
            for f in detection.findings
        ],
    }


def run(args: argparse.Namespace) -> int:
    from mcpwarden.detect.tools import scan_tool

    threshold = float(args.threshold)
    if not 0.0 <= threshold <= 1.0:
        raise UsageError(f"--threshold must be between 0 and 1, got {threshold}")
    rows = read_rows(Path(args.input) if args.input else None, "tool", dict, "a JSON object (an MCP tool)")
    write_rows((verdict(row_id, scan_tool(tool, threshold=threshold)) for row_id, tool in rows), args.output)
    return EXIT_OK
