"""What every static check receives: the analysed server and shared, read-only context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mcpwarden.scan.analysis import ServerAnalysis
from mcpwarden.scan.model import Issue
from mcpwarden.scan.osv import OsvDatabase
from mcpwarden.scan.typosquat import KnownPackage, known_packages


@dataclass(frozen=True, slots=True)
class CheckContext:
    home: Path | None = None
    osv: OsvDatabase | None = None
    known: tuple[KnownPackage, ...] = field(default_factory=known_packages)


Check = Callable[[ServerAnalysis, CheckContext], list[Issue]]
