"""Shared value types: who calls (`Principal`), what is in flight (`Exchange`), what a guard
decided (`Decision`, `Denied`).

Authentication produces principals, policy and guards judge exchanges, audit records
decisions, and the gateway carries all three. Keeping them here, in a module that imports
nothing of the project, lets every layer use them without reaching into another layer
(auth into `guards/`, audit into the gateway) and so keeps the import graph acyclic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]

DecisionKind = Literal["pass", "rewrite", "deny", "alert"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling. Anonymous until authentication is configured."""

    subject: str = "anonymous"
    issuer: str | None = None
    client_id: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """A stable identity key that sessions are bound to (issuer + subject + client)."""
        return f"{self.issuer or '-'}|{self.subject}|{self.client_id or '-'}"


ANONYMOUS = Principal()


@dataclass(slots=True)
class Exchange:
    """One message in flight and its context, as seen by guards.

    `state` is scratch space shared by the guards of one session (for flow rules such
    as "untrusted content was seen in this session"); it lives as long as the session.
    """

    method: str
    upstream: str
    principal: Principal = ANONYMOUS
    session_id: str | None = None
    request_id: Any = None
    tool: str | None = None
    params: JSON = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    kind: DecisionKind
    reason: str | None = None
    message: str | None = None
    value: Any = None
    details: dict[str, Any] | None = None

    @staticmethod
    def allow() -> Decision:
        return _PASS

    @staticmethod
    def rewrite(value: Any, reason: str, message: str | None = None, **details: Any) -> Decision:
        return Decision("rewrite", reason, message, value, details or None)

    @staticmethod
    def deny(reason: str, message: str, **details: Any) -> Decision:
        return Decision("deny", reason, message, None, details or None)

    @staticmethod
    def alert(reason: str, message: str, **details: Any) -> Decision:
        """Let the message through unchanged but record a warning in the audit trail."""
        return Decision("alert", reason, message, None, details or None)


_PASS = Decision("pass")


class Denied(Exception):
    """A guard denied the message; carries the guard's name and its decision."""

    def __init__(self, guard: str, decision: Decision) -> None:
        super().__init__(decision.message or decision.reason or "denied")
        self.guard = guard
        self.decision = decision


FileRole = Literal["read", "write", "folder", "command", "secret"]


@dataclass(frozen=True, slots=True)
class FileUse:
    """Marks a config field naming something `serve` opens or runs (`Annotated[str, FileUse(...)]`).

    `config check` finds these fields by walking the config model (commands/preflight.py), so
    a new file setting is checked as soon as it is marked, with no list to keep in step.
    `expected` completes "expected ..." in the error sentence; `parse` ("module:function")
    reads the file (read) or the secret's value (secret) and raises when it is not what
    `serve` needs; `only_if` names a sibling field and the value it must have for the file to
    be used at all (the SQLite path only matters with the sqlite backend).
    """

    role: FileRole
    expected: str
    parse: str | None = None
    only_if: tuple[str, str] | None = None
