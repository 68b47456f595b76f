"""The guard contract: named hooks that pass, rewrite, or deny.

A guard is a small object in the manner of mitmproxy addons: it overrides only the
hooks it cares about, and the pipeline calls only the hooks a guard overrides. Guards
never touch transport or storage themselves; they get an `Exchange` describing the
message in flight and whatever services their constructor was given.

Every hook returns a `Decision` or `None` (which means pass). A `rewrite` decision
carries the replacement payload that later guards and the peer will see; a `deny`
carries a stable reason code (e.g. `tool.denied`, `result.too_large`) that ends up in
the JSON-RPC error and the audit trail.

The value types a hook sees and returns (`Exchange`, `Decision`, `Principal`) live in
`mcpwarden.types`, so that auth, policy and audit use them without depending on guards.
"""

from __future__ import annotations

from typing import ClassVar

from mcpwarden.types import JSON, Decision, Exchange


class Guard:
    """Base class: override the hooks you need; the others are never called.

    Request-side hooks (`tool_call`, `resource_read_request`, `prompt_get_request`,
    `request`) see the params the client sent. Result-side hooks see the `result`
    object of the upstream's response. `server_request` sees requests the server sends
    to the client (sampling, elicitation, roots), `client_response` the client's answers
    to them, `error` an upstream's JSON-RPC errors, and `notification` sees notifications
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

    async def initialize_result(self, ex: Exchange, result: JSON) -> Decision | None:
        """An upstream's `initialize` result (instructions, serverInfo, capabilities)."""
        return None

    async def result(self, ex: Exchange, result: JSON) -> Decision | None:
        """The result of any method without a hook of its own (completion/complete, new methods)."""
        return None

    async def error(self, ex: Exchange, error: JSON) -> Decision | None:
        """The `error` object of an upstream's JSON-RPC error response, before the client sees it."""
        return None

    # server-initiated
    async def server_request(self, ex: Exchange, msg: JSON) -> Decision | None:
        return None

    async def client_response(self, ex: Exchange, msg: JSON) -> Decision | None:
        """The client's answer to a server request (`ex.method` names the request), before the upstream."""
        return None

    async def notification(self, ex: Exchange, msg: JSON) -> Decision | None:
        return None
