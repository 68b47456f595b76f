"""What the scanner works on: configured servers, and the issues it finds in them.

`ServerEntry` keeps environment and header *values* because the secret check needs
them, but nothing that renders an entry may show them: `to_public_dict` is the only
view reports use, and it carries keys only, with secrets in arguments and URLs masked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mcpwarden.detect.findings import Severity

Transport = Literal["stdio", "http", "sse"]

REDACTED = "«redacted»"


class ConfigError(Exception):
    """A config file that cannot be read or does not have the client's structure."""

    def __init__(self, file: Path, message: str, line: int | None = None) -> None:
        where = f"{file}:{line}" if line is not None else str(file)
        super().__init__(f"{where}: {message}")
        self.file = file
        self.line = line
        self.reason = message


@dataclass(frozen=True, slots=True)
class ServerEntry:
    """One MCP server as a client config declares it."""

    client: str
    file: Path
    name: str
    transport: Transport
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    line: int | None = None
    scope: str | None = None
    cwd: str | None = None
    # `"disabled": true` (Windsurf, Cline) or `enabled = false` (Codex): checked, but not started.
    enabled: bool = True
    # Lines of individual fields (e.g. "args.2", "env.API_KEY") where the parser knew them.
    field_lines: Mapping[str, int] = field(default_factory=dict, repr=False)

    @property
    def env_keys(self) -> list[str]:
        return sorted(self.env)

    @property
    def header_keys(self) -> list[str]:
        return sorted(self.headers)

    @property
    def key(self) -> str:
        """Identifies the entry across reports: client, file, scope and name."""
        scope = f"[{self.scope}]" if self.scope else ""
        return f"{self.client}:{self.file}{scope}:{self.name}"

    def line_of(self, field_name: str) -> int | None:
        """Line of `field_name` (e.g. `args.2`), else of its parent field, else of the entry."""
        if field_name in self.field_lines:
            return self.field_lines[field_name]
        return self.field_lines.get(field_name.split(".", 1)[0], self.line)

    def to_public_dict(
        self, masked_args: tuple[str, ...] | None = None, masked_url: str | None = None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "client": self.client,
            "file": str(self.file),
            "line": self.line,
            "name": self.name,
            "transport": self.transport,
        }
        if self.scope:
            out["scope"] = self.scope
        if self.command is not None:
            out["command"] = self.command
            out["args"] = list(masked_args if masked_args is not None else self.args)
        if self.url is not None:
            out["url"] = masked_url if masked_url is not None else self.url
        out["env_keys"] = self.env_keys
        out["header_keys"] = self.header_keys
        if not self.enabled:
            out["enabled"] = False
        return out


@dataclass(frozen=True, slots=True)
class Issue:
    """One scanner result: a rule broken at a place in a config file."""

    rule_id: str
    severity: Severity
    message: str
    file: Path
    line: int | None = None
    server: str | None = None
    client: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule_id,
            "severity": str(self.severity),
            "message": self.message,
            "file": str(self.file),
            "line": self.line,
            "server": self.server,
            "client": self.client,
        }
        if self.details:
            out["details"] = dict(self.details)
        return out

    @classmethod
    def at(
        cls,
        entry: ServerEntry,
        rule_id: str,
        severity: Severity,
        message: str,
        *,
        field_name: str | None = None,
        **details: Any,
    ) -> Issue:
        """An issue located at `entry` (or one of its fields when its line is known)."""
        line = entry.line_of(field_name) if field_name else entry.line
        return cls(rule_id, severity, message, entry.file, line, entry.name, entry.client, details)
