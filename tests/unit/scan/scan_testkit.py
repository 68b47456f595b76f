"""Helpers for the scanner's unit tests: fixture paths and one-server entries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mcpwarden.scan.model import Issue, ServerEntry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "scan"

RuleRunner = Callable[..., list[Issue]]


def make_entry(
    command: str | None = None,
    args: list[str] | None = None,
    *,
    env: dict[str, str] | None = None,
    url: str | None = None,
    headers: dict[str, str] | None = None,
    name: str = "srv",
) -> ServerEntry:
    return ServerEntry(
        client="cursor",
        file=Path("/tmp/mcp.json"),
        name=name,
        transport="stdio" if command else "http",
        command=command,
        args=tuple(args or ()),
        env=env or {},
        url=url,
        headers=headers or {},
        line=3,
    )
