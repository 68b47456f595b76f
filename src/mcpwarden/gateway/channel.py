"""Where the messages of one client request go, and which requests are in flight.

Messages flow to the client on `Channel`s: one per client request (intermediate
notifications and server requests, then the final response). `InFlight` keeps the open
channels and their tasks by client request id, so a cancellation, a duplicate id or a
progress notification finds its request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from mcpwarden.gateway.outbox import ChannelQueue, Outbox

JSON = dict[str, Any]


@dataclass(slots=True)
class Channel:
    """Messages for one client request, ending with its response (`final`)."""

    client_id: Any
    upstream: str | None = None
    progress_token: Any = None
    # Bounded (gateway/outbox.py); a session passes one charged to its own budget.
    queue: ChannelQueue = field(default_factory=lambda: ChannelQueue(Outbox()))
    done: bool = False
    # Parked until a stateless client retries with the input its upstream asked for
    # (gateway/input_required.py): such a call is blocked on that answer and asks nothing new.
    awaiting_input: bool = False

    def push(self, msg: JSON) -> None:
        self.queue.put_nowait((msg, None))

    def finish(self, msg: JSON | None) -> int:
        """Queue the final response (None: the request was cancelled, end without one).

        Serializes it once, here, and returns its size for the audit record.
        """
        if self.done:
            return 0
        self.done = True
        data = orjson.dumps(msg) if msg is not None else b""
        self.queue.put_nowait((msg or {}, data))
        return len(data)


@dataclass(slots=True)
class Pending:
    """A request the gateway sent upstream, waiting for its reply.

    `channel` is the client request it serves (None for the gateway's own requests such
    as listing definitions), so messages the upstream relates to it reach that client.
    """

    future: asyncio.Future[JSON]
    channel: Channel | None


class InFlight:
    """The client requests of one session that have not been answered yet."""

    def __init__(self) -> None:
        self.channels: dict[Any, Channel] = {}
        self.tasks: dict[Any, asyncio.Task[None]] = {}

    def __len__(self) -> int:
        return len(self.channels)

    def __contains__(self, client_id: Any) -> bool:
        return client_id in self.channels

    def add(self, channel: Channel, task: asyncio.Task[None]) -> None:
        self.channels[channel.client_id] = channel
        self.tasks[channel.client_id] = task

    def get(self, client_id: Any) -> Channel | None:
        return self.channels.get(client_id)

    def task(self, client_id: Any) -> asyncio.Task[None] | None:
        return self.tasks.get(client_id)

    def done(self, client_id: Any) -> None:
        self.channels.pop(client_id, None)
        self.tasks.pop(client_id, None)

    def by_progress_token(self, token: Any, upstream: str) -> Channel | None:
        """The open request that gave `token` and went to `upstream` (no other may claim it)."""
        if token is None:
            return None
        for ch in self.channels.values():
            if ch.progress_token == token and ch.upstream == upstream and not ch.done:
                return ch
        return None

    def fail_all(self, error: Callable[[Any], JSON]) -> list[Any]:
        """Answer every open request with `error(client_id)`, then stop its work; returns
        the ids answered. Used when the gateway stops: clients get an error, not silence."""
        failed = [ch.client_id for ch in list(self.channels.values()) if not ch.done]
        for channel in list(self.channels.values()):
            if not channel.done:
                channel.finish(error(channel.client_id))
        for task in list(self.tasks.values()):
            task.cancel()
        return failed

    def cancel_all(self) -> None:
        """End every open request without a response (the session is closing)."""
        for task in list(self.tasks.values()):
            task.cancel()
        for channel in list(self.channels.values()):
            channel.finish(None)
