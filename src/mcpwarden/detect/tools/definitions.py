"""Prompts, resources, resource templates and server instructions as tool-shaped objects.

Every definition a server lists is model-visible text, so each goes through the tool
detector rather than a second, weaker code path: a prompt's arguments become schema
properties, a resource keeps its name, title and description (its URI and size are
addresses, not prose), and a server's `instructions` become a description.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def prompt_as_tool(prompt: Mapping[str, Any]) -> dict[str, Any]:
    props = {
        str(arg.get("name", f"arg{i}")): {"type": "string", "description": str(arg.get("description") or "")}
        for i, arg in enumerate(prompt.get("arguments") or [])
        if isinstance(arg, Mapping)
    }
    tool: dict[str, Any] = {
        "name": str(prompt.get("name", "")),
        "inputSchema": {"type": "object", "properties": props},
    }
    for key in ("title", "description"):
        if prompt.get(key):
            tool[key] = str(prompt[key])
    return tool


def resource_as_tool(resource: Mapping[str, Any]) -> dict[str, Any]:
    tool: dict[str, Any] = {"name": str(resource.get("name", "")), "inputSchema": {"type": "object"}}
    for key in ("title", "description"):
        if resource.get(key):
            tool[key] = str(resource[key])
    return tool


def instructions_as_tool(instructions: str) -> dict[str, Any]:
    return {"name": "instructions", "description": instructions}
