"""The official SDK client, wired up for tests (sampling, elicitation, roots, logging)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.context import RequestContext
from mcp.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    ElicitResult,
    ListRootsResult,
    LoggingMessageNotificationParams,
    Root,
    TextContent,
)


@dataclass
class Recorder:
    """What the server sent the client outside of responses."""

    logs: list[LoggingMessageNotificationParams] = field(default_factory=list)
    messages: list[Any] = field(default_factory=list)
    sampling: list[CreateMessageRequestParams] = field(default_factory=list)
    elicitations: list[ElicitRequestParams] = field(default_factory=list)


@contextlib.asynccontextmanager
async def sdk_session(url: str, **headers: str) -> AsyncIterator[tuple[ClientSession, Recorder]]:
    rec = Recorder()

    async def on_sampling(
        _ctx: RequestContext[ClientSession, Any], params: CreateMessageRequestParams
    ) -> Any:
        rec.sampling.append(params)
        first = params.messages[0].content
        text = first.text if isinstance(first, TextContent) else "?"
        return CreateMessageResult(
            role="assistant", content=TextContent(type="text", text=f"model says: {text}"), model="test-model"
        )

    async def on_elicit(_ctx: RequestContext[ClientSession, Any], params: ElicitRequestParams) -> Any:
        rec.elicitations.append(params)
        return ElicitResult(action="accept", content={"confirm": True})

    async def on_roots(_ctx: RequestContext[ClientSession, Any]) -> Any:
        return ListRootsResult(roots=[Root(uri="file:///workspace/project", name="project")])  # type: ignore[arg-type]

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        rec.logs.append(params)

    async def on_message(message: Any) -> None:
        rec.messages.append(message)

    async with (
        streamablehttp_client(url, headers=headers or None) as (read, write, _get_id),
        ClientSession(
            read,
            write,
            sampling_callback=on_sampling,
            elicitation_callback=on_elicit,
            list_roots_callback=on_roots,
            logging_callback=on_log,
            message_handler=on_message,
        ) as session,
    ):
        await session.initialize()
        yield session, rec
