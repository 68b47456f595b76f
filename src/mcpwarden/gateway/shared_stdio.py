"""One stdio server process shared by every session (`shared: true` on a stdio upstream).

By default each client session gets its own stdio process: nothing one user does can be
seen or influenced by another, at the price of one process per session (30 sessions once
used 2.1 GB). For servers that keep no per-client state, an operator can declare them
shareable; then one process serves every session, and this module multiplexes it:

- each session sees its own connection (`SharedView`), with the ids it chose; requests
  go to the process under hub-minted ids and replies are routed back to their session;
- the process is initialized once; later sessions get a copy of the first reply, and only
  the first `notifications/initialized` is sent;
- progress tokens are replaced by hub-minted ones, so one session's progress never reaches
  another; `notifications/cancelled` is mapped to the hub id;
- list_changed and resources/updated notifications go to every session (the definitions are
  the same for all); other server notifications (log messages among them) are dropped, since
  they cannot be attributed to one session, and server-initiated requests (sampling,
  elicitation, roots) are answered with an error for the same reason.

The trade-off (docs/configuration.md): the server sees all users' calls in one process, so
it must hold no per-user state or secrets; a crash or a stuck call affects every session.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from mcpwarden.config import StdioUpstream
from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.upstream.base import (
    ClosedHandler,
    EventHandler,
    MessageHandler,
    UpstreamClosed,
    UpstreamConnection,
    UpstreamError,
)
from mcpwarden.gateway.upstream.stdio import StdioConnection

JSON = dict[str, Any]
BROADCAST = frozenset(
    {
        "notifications/tools/list_changed",
        "notifications/prompts/list_changed",
        "notifications/resources/list_changed",
        "notifications/resources/updated",
    }
)


class SharedStdio:
    """The shared processes of a gateway, one hub per shared upstream."""

    def __init__(self) -> None:
        self._hubs: dict[str, _Hub] = {}

    def connect(
        self,
        name: str,
        config: StdioUpstream,
        on_message: MessageHandler,
        on_closed: ClosedHandler,
        on_event: EventHandler | None = None,
    ) -> UpstreamConnection:
        hub = self._hubs.get(name)
        if hub is None or hub.gone:
            hub = self._hubs[name] = _Hub(name, config, on_event)
        return SharedView(hub, on_message, on_closed)

    async def close(self) -> None:
        hubs, self._hubs = list(self._hubs.values()), {}
        await asyncio.gather(*(h.close() for h in hubs), return_exceptions=True)


class SharedView(UpstreamConnection):
    """One session's connection to a shared process."""

    def __init__(self, hub: _Hub, on_message: MessageHandler, on_closed: ClosedHandler) -> None:
        super().__init__(hub.name, on_message, on_closed)
        self.hub = hub

    async def start(self) -> None:
        await self.hub.start(self)

    async def send(self, msg: JSON) -> None:
        if self.closed:
            raise UpstreamClosed(f"upstream {self.name!r} is closed for this session")
        await self.hub.send(self, msg)

    def abandon(self, request_id: Any) -> None:
        self.hub.forget(self, request_id)

    async def close(self) -> None:
        self.hub.detach(self)
        await self._closed("closed by gateway")

    async def deliver(self, msg: JSON) -> None:
        if not self.closed:
            await self._on_message(msg, None)

    async def gone(self, reason: str) -> None:
        await self._closed(reason)


class _Hub:
    def __init__(self, name: str, config: StdioUpstream, on_event: EventHandler | None) -> None:
        self.name = name
        self.conn = StdioConnection(name, config, self._from_process, self._process_gone, on_event)
        self.views: set[SharedView] = set()
        self.gone = False
        self._start_lock = asyncio.Lock()
        self._started = False
        self._ids = itertools.count(1)
        self._routes: dict[int, tuple[SharedView, Any]] = {}
        self._tokens: dict[str, tuple[SharedView, Any]] = {}
        self._init_reply: asyncio.Future[JSON] | None = None
        self._initialized_sent = False

    async def start(self, view: SharedView) -> None:
        async with self._start_lock:
            if self.gone:
                raise UpstreamClosed(f"shared upstream {self.name!r} has exited")
            if not self._started:
                await self.conn.start()
                self._started = True
        self.views.add(view)

    def detach(self, view: SharedView) -> None:
        self.views.discard(view)
        for hid in [h for h, (v, _) in self._routes.items() if v is view]:
            del self._routes[hid]
        for token in [t for t, (v, _) in self._tokens.items() if v is view]:
            del self._tokens[token]

    def forget(self, view: SharedView, request_id: Any) -> None:
        for hid in [h for h, (v, rid) in self._routes.items() if v is view and rid == request_id]:
            del self._routes[hid]

    async def send(self, view: SharedView, msg: JSON) -> None:
        method = msg.get("method")
        if method is None:
            return  # an answer to a server request: none is ever relayed in shared mode
        if "id" not in msg:
            await self._notify(view, msg)
        elif method == "initialize":
            await self._initialize(view, msg)
        else:
            hid = next(self._ids)
            self._routes[hid] = (view, msg["id"])
            await self.conn.send({**msg, "id": hid, "params": self._own_tokens(view, hid, msg.get("params"))})

    async def _initialize(self, view: SharedView, msg: JSON) -> None:
        if self._init_reply is None:
            self._init_reply = asyncio.get_running_loop().create_future()
            hid = next(self._ids)
            self._routes[hid] = (_FIRST, None)
            try:
                await self.conn.send({**msg, "id": hid})
            except UpstreamError as exc:
                self._init_reply.set_exception(exc)
        reply = await asyncio.shield(self._init_reply)
        await view.deliver({**reply, "id": msg["id"]})

    async def _notify(self, view: SharedView, msg: JSON) -> None:
        method = msg["method"]
        if method == "notifications/initialized":
            if self._initialized_sent:
                return
            self._initialized_sent = True
        elif method == "notifications/cancelled":
            params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
            assert isinstance(params, dict)
            wanted = params.get("requestId")
            hid = next((h for h, (v, rid) in self._routes.items() if v is view and rid == wanted), None)
            if hid is None:
                return
            msg = {**msg, "params": {**params, "requestId": hid}}
        await self.conn.send(msg)

    def _own_tokens(self, view: SharedView, hid: int, params: Any) -> Any:
        """Replace a progress token by a hub-minted one, so progress reaches only its session."""
        if not isinstance(params, dict) or not isinstance(params.get("_meta"), dict):
            return params
        meta = params["_meta"]
        if "progressToken" not in meta:
            return params
        token = f"shared-{hid}"
        self._tokens[token] = (view, meta["progressToken"])
        return {**params, "_meta": {**meta, "progressToken": token}}

    async def _from_process(self, msg: JSON, _related: Any) -> None:
        method = msg.get("method")
        if method is None:
            route = self._routes.pop(msg.get("id"), None)  # type: ignore[arg-type]
            if route is None:
                return
            view, original = route
            if view is _FIRST:
                if self._init_reply is not None and not self._init_reply.done():
                    self._init_reply.set_result(msg)
                return
            for token in [t for t, (v, _) in self._tokens.items() if t == f"shared-{msg.get('id')}"]:
                del self._tokens[token]
            await view.deliver({**msg, "id": original})
        elif "id" in msg:
            await self.conn.send(
                jsonrpc.error(
                    msg["id"],
                    jsonrpc.METHOD_NOT_FOUND,
                    "server-initiated requests are not available on a shared stdio upstream",
                    reason="upstream.shared",
                )
            )
        elif method == "notifications/progress":
            params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
            assert isinstance(params, dict)
            target = self._tokens.get(str(params.get("progressToken")))
            if target is not None:
                view, original = target
                await view.deliver({**msg, "params": {**params, "progressToken": original}})
        elif method in BROADCAST:
            for view in list(self.views):
                await view.deliver(msg)

    async def _process_gone(self, reason: str) -> None:
        self.gone = True
        if self._init_reply is not None and not self._init_reply.done():
            self._init_reply.set_exception(UpstreamClosed(f"shared upstream {self.name!r} exited: {reason}"))
        for view in list(self.views):
            await view.gone(reason)

    async def close(self) -> None:
        self.gone = True
        await self.conn.close()


class _First:
    """Marks the route of the hub's own initialize request."""


_FIRST: Any = _First()
