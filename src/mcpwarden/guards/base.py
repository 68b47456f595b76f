"""The guard contract: named hooks that pass, rewrite, or deny.

A guard is a small object in the manner of mitmproxy addons: it overrides only the
hooks it cares about, and the pipeline calls only the hooks a guard overrides. Guards
never touch transport or storage themselves; they get an `Exchange` describing the
message in flight and whatever services their constructor was given.

Every hook returns a `Decision` or `None` (which means pass). A `rewrite` decision
carries the replacement payload that later guards and the peer will see; a `deny`
carries a stable reason code (e.g. `tool.denied`, `result.too_large`) that ends up in
the JSON-RPC error and the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

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


class Guard:
    """Base class: override the hooks you need; the others are never called.

    Request-side hooks (`tool_call`, `resource_read_request`, `prompt_get_request`,
    `request`) see the params the client sent. Result-side hooks see the `result`
    object of the upstream's response. `server_request` sees requests the server sends
    to the client (sampling, elicitation, roots) and `notification` sees notifications
    in either direction.
    """

    name: ClassVar[str] = "guard"

    # client -> server
    async def request(self, ex: Exchange, params: JSON) -> Decision | None:
        """Any client request, before the method-specific hook."""
        return None

    async def tool_call(self, ex: Exchange, params: JSON) -> Decision | None:
        return None

    async def resource_read_request(self, ex: Exchange, params: JSON) -> Decision | None:
        return None

    async def prompt_get_request(self, ex: Exchange, params: JSON) -> Decision | None:
        return None

    # server -> client (results)
    async def tools_list(self, ex: Exchange, result: JSON) -> Decision | None:
        return None

    async def tool_result(self, ex: Exchange, result: JSON) -> Decision | None:
        return None

    async def resources_list(self, ex: Exchange, result: JSON) -> Decision | None:
        return None

    async def resource_templates_list(self, ex: Exchange, result: JSON) -> Decision | None:
        return None

    async def resource_read(self, ex: Exchange, result: JSON) -> Decision | None:
        return None

    async def prompts_list(self, ex: Exchange, result: JSON) -> Decision | None:
        return None

    async def prompt_get(self, ex: Exchange, result: JSON) -> Decision | None:
        return None

    # server-initiated
    async def server_request(self, ex: Exchange, msg: JSON) -> Decision | None:
        return None

    async def notification(self, ex: Exchange, msg: JSON) -> Decision | None:
        return None
