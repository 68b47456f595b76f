"""`subscriptions/listen`: the stateless era's one stream for notifications outside a call.

It replaces the handshake era's GET stream and `resources/subscribe`. The client names what
it wants (list changes per kind, updates for given resource URIs); the gateway acknowledges
what it can honour first, then sends only those notifications, each tagged with the
subscription's id. Resource subscriptions are made upstream through the pooled session's
request processor, so policy and audit judge them like any `resources/subscribe`.
Notifications come from the principal's gateway-side session (`stateless_pool`), which
went through the notification guards on the way in.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.responses import StreamingResponse

from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.discover import GATEWAY_INFO, SERVER_INFO_META
from mcpwarden.gateway.http_errors import HttpRejection
from mcpwarden.gateway.stateless_pool import Listener, Pooled, final_of

if TYPE_CHECKING:
    from mcpwarden.gateway.core import GatewayCore

JSON = dict[str, Any]

LISTEN_METHOD = "subscriptions/listen"
SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"
# Filter flag -> (notification it admits, server capability and flag that must be present).
LIST_FLAGS: dict[str, tuple[str, str]] = {
    "toolsListChanged": ("notifications/tools/list_changed", "tools"),
    "promptsListChanged": ("notifications/prompts/list_changed", "prompts"),
    "resourcesListChanged": ("notifications/resources/list_changed", "resources"),
}
RESOURCE_UPDATED = "notifications/resources/updated"
# Notifications that travel on listen streams only in this revision.
SUBSCRIPTION_NOTIFICATIONS = frozenset({*(m for m, _ in LIST_FLAGS.values()), RESOURCE_UPDATED})
_ids = itertools.count(1)


def dispatch(pooled: Pooled, msg: JSON) -> None:
    """Hand a notification to every listen stream of the principal that asked for it."""
    for listener in list(pooled.listeners):
        if listener.accepts(msg):
            with contextlib.suppress(Exception):
                listener.queue.put_nowait(msg)


def _accepts(flags: dict[str, bool], uris: frozenset[str]) -> Callable[[JSON], bool]:
    wanted = {LIST_FLAGS[f][0] for f, on in flags.items() if on}

    def accepts(msg: JSON) -> bool:
        method = msg.get("method")
        if method == RESOURCE_UPDATED:
            params = msg.get("params")
            return isinstance(params, dict) and params.get("uri") in uris
        return method in wanted

    return accepts


async def listen_response(core: GatewayCore, pooled: Pooled, rid: Any, params: JSON) -> StreamingResponse:
    """Open a listen stream: acknowledge, subscribe upstream, then relay until the client leaves."""
    wanted = params.get("notifications")
    if not isinstance(wanted, dict):
        raise HttpRejection(
            400, "listen.invalid", "subscriptions/listen needs a notifications filter object", id_=rid,
            code=jsonrpc.INVALID_PARAMS,
        )  # fmt: skip
    caps = pooled.init_result.get("capabilities")
    caps = caps if isinstance(caps, dict) else {}
    agreed: JSON = {}
    flags: dict[str, bool] = {}
    for flag, (_, capability) in LIST_FLAGS.items():
        if wanted.get(flag) is True and isinstance(caps.get(capability), dict):
            flags[flag] = True
            agreed[flag] = True
    requested = wanted.get("resourceSubscriptions")
    uris: list[str] = []
    if isinstance(requested, list) and isinstance(caps.get("resources"), dict):
        for uri in requested:
            if isinstance(uri, str) and await _subscribe(pooled, uri):
                uris.append(uri)
        agreed["resourceSubscriptions"] = uris
    listener = Listener(rid, _accepts(flags, frozenset(uris)))
    pooled.listeners.add(listener)
    core.audit_event(
        "subscription.open",
        session=pooled.session.id,
        principal=pooled.session.principal.key,
        details={"notifications": agreed},
    )
    tag = {SUBSCRIPTION_ID: rid}

    async def body() -> AsyncIterator[bytes]:
        try:
            ack = jsonrpc.notification(
                "notifications/subscriptions/acknowledged", {"notifications": agreed, "_meta": tag}
            )
            yield _sse(ack)
            while True:
                msg = await listener.queue.get()
                if msg is None:
                    # The gateway-side session ended: end the subscription gracefully.
                    info = {SERVER_INFO_META: GATEWAY_INFO, **tag}
                    yield _sse(jsonrpc.result(rid, {"resultType": "complete", "_meta": info}))
                    return
                params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
                assert isinstance(params, dict)
                meta = params.get("_meta") if isinstance(params.get("_meta"), dict) else {}
                assert isinstance(meta, dict)
                yield _sse({**msg, "params": {**params, "_meta": {**meta, **tag}}})
        finally:
            pooled.listeners.discard(listener)

    return StreamingResponse(body(), media_type="text/event-stream", headers={"cache-control": "no-cache"})


async def _subscribe(pooled: Pooled, uri: str) -> bool:
    """`resources/subscribe` upstream on the pooled session, through its guards and audit."""
    msg = {
        "jsonrpc": "2.0",
        "id": f"listen-{next(_ids)}",
        "method": "resources/subscribe",
        "params": {"uri": uri},
    }
    reply = await final_of(pooled.session.handle_request(msg))
    return "result" in reply


def _sse(msg: JSON) -> bytes:
    return b"event: message\ndata: " + orjson.dumps(msg) + b"\n\n"
