"""No `asyncio.wait_for` in the package: on Python 3.11 it swallows a cancellation that lands in
the same loop turn as the awaited result, which once kept a closed session's GET stream alive and
its DELETE waiting forever. Bounded waits use `asyncio.timeout` (see docs/design-notes.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import mcpwarden

PACKAGE = Path(mcpwarden.__file__).parent


def wait_for_calls(source: str) -> list[int]:
    """Lines that call `wait_for` as an attribute (asyncio.wait_for) or a bare imported name."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name == "wait_for":
                lines.append(node.lineno)
    return lines


def test_the_checker_finds_attribute_and_bare_calls() -> None:
    source = "import asyncio\nfrom asyncio import wait_for\nasyncio.wait_for(x, 1)\nwait_for(y, 2)\n"
    assert wait_for_calls(source) == [3, 4]


def test_no_module_uses_asyncio_wait_for() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line in wait_for_calls(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "use `async with asyncio.timeout(...)` instead: " + ", ".join(offenders)
