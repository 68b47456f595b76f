"""The policy guard: enforces `PolicyEngine` decisions on MCP messages.

Every client request is decided, deny by default. Calls (`tools/call`,
`resources/read`, `prompts/get`) are decided exactly, with argument constraints;
`completion/complete` by what its `ref` names, `resources/subscribe` and
`resources/unsubscribe` by the read rules for the URI; session-level methods (ping, the
lists, `logging/setLevel`) need access to the upstream; any other method needs a
`methods:` grant. List results are filtered so each caller only sees what it may use.
A malformed request (no name, arguments that are not an object, a `ref` of unknown type)
is denied rather than guessed at, since the upstream's own parsing of it is unknowable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from mcpwarden.guards.base import Guard
from mcpwarden.policy.engine import ARGUMENT, NO_RULE, PolicyDecision, PolicyEngine
from mcpwarden.policy.model import SESSION_METHODS, Kind
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
    """Deny-by-default authorization of every request, and filtering of lists.

    The `request` hook sees every client request with the name of the upstream it goes
    to, `initialize` once per upstream of the endpoint (the gateway connects only those
    that pass); the call hooks decide the three call methods. The gateway's own re-listings
    for pinning and the client's notifications (sent only to the upstreams connected at
    `initialize`) do not pass through it.
    """

    name: ClassVar[str] = "policy"

    def __init__(self, engine: PolicyEngine) -> None:
        self.engine = engine

    async def request(self, ex: Exchange, params: JSON) -> Decision | None:
        method = ex.method
        if method in _CALL_METHODS:
            return None  # decided by tool_call, resource_read_request, prompt_get_request
        if method in SESSION_METHODS:
            decision = self.engine.decide(ex.principal, ex.upstream, "upstream")
        elif method == "completion/complete":
            return self._completion(ex, params.get("ref"))
        elif method in ("resources/subscribe", "resources/unsubscribe"):
            return self._call(ex, "resource", params.get("uri"), None)
        else:
            decision = self.engine.decide(ex.principal, ex.upstream, "method", method)
        return None if decision.allowed else _denial(decision)

    def _completion(self, ex: Exchange, ref: Any) -> Decision | None:
        """A completion is allowed when the caller may use the prompt or resource it names.

        A prompt whose grant has argument constraints still counts (as in lists): the
        constraints judge a `prompts/get`, which is still checked. A `ref/resource` names a
        URI or a URI template; a template is decided as the template list shows it.
        """
        kind = ref.get("type") if isinstance(ref, dict) else None
        if kind == "ref/prompt":
            name = ref.get("name") if isinstance(ref, dict) else None
            if not isinstance(name, str) or not name:
                return Decision.deny(NO_RULE, "completion ref/prompt without a name", code=NO_RULE)
            decision = self.engine.decide(ex.principal, ex.upstream, "prompt", name)
            return None if decision.allowed or decision.code == ARGUMENT else _denial(decision)
        if kind == "ref/resource":
            uri = ref.get("uri") if isinstance(ref, dict) else None
            if not isinstance(uri, str) or not uri:
                return Decision.deny(NO_RULE, "completion ref/resource without a uri", code=NO_RULE)
            if "{" in uri:
                decision = self.engine.decide_template(ex.principal, ex.upstream, uri)
                return None if decision.allowed else _denial(decision)
            return self._call(ex, "resource", uri, None)
        message = f"completion ref of unknown type {str(kind)[:64]!r}: nothing to decide it by"
        return Decision.deny(NO_RULE, message, code=NO_RULE)

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


_CALL_METHODS = frozenset({"tools/call", "resources/read", "prompts/get"})
