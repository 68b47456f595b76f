"""Real MCP servers for the scanner's live-inspection tests (helpers).

The node servers come from package.json (`make install-node`), the Python one from the
dev dependency group; the poisoned server is a fixture written with the official SDK.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
NODE = ROOT / "node_modules" / ".bin" / "node"
POISONED = ROOT / "tests" / "fixtures" / "scan" / "poisoned_server.py"


def node_server(package: str, *args: str) -> dict[str, Any]:
    script = ROOT / "node_modules" / "@modelcontextprotocol" / package / "dist" / "index.js"
    if not NODE.exists() or not script.exists():
        pytest.fail(f"{package} is not installed: run `make install-node` (npm ci) first")
    return {"command": str(NODE), "args": [str(script), *args]}


def time_server(legacy_python: Path) -> dict[str, Any]:
    """The real `mcp-server-time`, from the 1.x venv (its releases import 1.x SDK names)."""
    exe = legacy_python.with_name("mcp-server-time")
    if not exe.exists():
        pytest.fail(f"mcp-server-time is missing from {legacy_python.parent}")
    return {"command": str(exe), "args": ["--local-timezone=UTC"]}


def poisoned_server(*args: str) -> dict[str, Any]:
    return {"command": sys.executable, "args": [str(POISONED), *args]}


def write_config(path: Path, servers: dict[str, dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"mcpServers": servers}, indent=2))
    return path
