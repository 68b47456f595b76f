"""The policy guard: enforces `PolicyEngine` decisions on MCP messages.

Calls (`tools/call`, `resources/read`, `prompts/get`) are decided exactly, with
argument constraints; list results are filtered so each caller only sees what it may
use. A malformed request (no name, arguments that are not an object) is denied rather
than guessed at, since the upstream's own parsing of it is unknowable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from mcpwarden.guards.base import Guard
from mcpwarden.policy.engine import ARGUMENT, NO_RULE, PolicyDecision, PolicyEngine
from mcpwarden.policy.model import Kind
from mcpwarden.types import JSON, Decision, Exchange


def _denial(decision: PolicyDecision) -> Decision:
    details: dict[str, Any] = {"code": decision.code}
    if decision.rule_id is not None:
        details["rule"] = decision.rule_id
    if decision.violations:
        details["violations"] = [v.to_dict() for v in decision.violations]
    message = decision.reason
    if decision.violations:
        message += ": " + "; ".join(f"{v.argument}: {v.message}" for v in decision.violations)
    return Decision.deny(decision.code, message, **details)


class PolicyGuard(Guard):
    """Deny-by-default authorization of calls and filtering of lists.

    With `enforce_upstream_access`, every other request to an upstream the caller has
    no rule for is denied too (`request` hook); leave it off where the gateway sends
    session-level requests such as `initialize` under a synthetic upstream name.
    """

    name: ClassVar[str] = "policy"

    def __init__(self, engine: PolicyEngine, enforce_upstream_access: bool = False) -> None:
        self.engine = engine
        self.enforce_upstream_access = enforce_upstream_access

    async def request(self, ex: Exchange, params: JSON) -> Decision | None:
        if not self.enforce_upstream_access or ex.method in _CHECKED_METHODS:
            return None
        decision = self.engine.decide(ex.principal, ex.upstream, "upstream")
        return None if decision.allowed else _denial(decision)

    def _call(self, ex: Exchange, kind: Kind, name: Any, arguments: Any) -> Decision | None:
        if not isinstance(name, str) or not name:
            return Decision.deny(NO_RULE, f"{kind} request without a name", code=NO_RULE)
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            return Decision.deny(ARGUMENT, "arguments must be a JSON object", code=ARGUMENT)
        decision = self.engine.decide(ex.principal, ex.upstream, kind, name, arguments)
        return None if decision.allowed else _denial(decision)

    async def tool_call(self, ex: Exchange, params: JSON) -> Decision | None:
        return self._call(ex, "tool", ex.tool or params.get("name"), params.get("arguments"))

    async def resource_read_request(self, ex: Exchange, params: JSON) -> Decision | None:
        return self._call(ex, "resource", params.get("uri"), None)

    async def prompt_get_request(self, ex: Exchange, params: JSON) -> Decision | None:
        return self._call(ex, "prompt", params.get("name"), params.get("arguments"))

    def _filter(
        self, result: JSON, key: str, field: str, allowed: Callable[[list[str]], set[str]]
    ) -> Decision | None:
        items = result.get(key)
        if not isinstance(items, list):
            return None
        names = [i[field] for i in items if isinstance(i, dict) and isinstance(i.get(field), str)]
        keep = allowed(names)
        kept = [i for i in items if isinstance(i, dict) and i.get(field) in keep]
        if len(kept) == len(items):
            return None
        hidden = len(items) - len(kept)
        return Decision.rewrite(
            {**result, key: kept}, "policy.filtered", f"{hidden} {key} hidden by policy", hidden=hidden
        )

    async def tools_list(self, ex: Exchange, result: JSON) -> Decision | None:
        return self._filter(
            result, "tools", "name", lambda n: self.engine.visible(ex.principal, ex.upstream, "tool", n)
        )

    async def prompts_list(self, ex: Exchange, result: JSON) -> Decision | None:
        return self._filter(
            result, "prompts", "name", lambda n: self.engine.visible(ex.principal, ex.upstream, "prompt", n)
        )

    async def resources_list(self, ex: Exchange, result: JSON) -> Decision | None:
        return self._filter(
            result,
            "resources",
            "uri",
            lambda n: self.engine.visible(ex.principal, ex.upstream, "resource", n),
        )

    async def resource_templates_list(self, ex: Exchange, result: JSON) -> Decision | None:
        def allowed(templates: list[str]) -> set[str]:
            return {t for t in templates if self.engine.template_visible(ex.principal, ex.upstream, t)}

        return self._filter(result, "resourceTemplates", "uriTemplate", allowed)


_CHECKED_METHODS = frozenset({"tools/call", "resources/read", "prompts/get"})
