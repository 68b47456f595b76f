"""Builders shared by the tool-integrity tests."""

from __future__ import annotations

from typing import Any

from mcpwarden.types import Exchange


def make_tool(description: str = "Add two numbers.", name: str = "add", **params: str) -> dict[str, Any]:
    properties = {k: {"type": "string", "description": v} for k, v in params.items()}
    return {
        "name": name,
        "description": description,
        "inputSchema": {"type": "object", "properties": properties},
    }


def exchange(upstream: str = "calc", method: str = "tools/list") -> Exchange:
    return Exchange(method=method, upstream=upstream)
