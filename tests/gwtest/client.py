"""The official SDK client, wired up for tests (sampling, elicitation, roots, logging)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
from mcp import ClientSession
from mcp.client.context import ClientRequestContext
from mcp.client.streamable_http import streamable_http_client
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

    async def on_sampling(_ctx: ClientRequestContext, params: CreateMessageRequestParams) -> Any:
        rec.sampling.append(params)
        first = params.messages[0].content
        text = first.text if isinstance(first, TextContent) else "?"
        return CreateMessageResult(
            role="assistant", content=TextContent(type="text", text=f"model says: {text}"), model="test-model"
        )

    async def on_elicit(_ctx: ClientRequestContext, params: ElicitRequestParams) -> Any:
        rec.elicitations.append(params)
        return ElicitResult(action="accept", content={"confirm": True})

    async def on_roots(_ctx: ClientRequestContext) -> Any:
        return ListRootsResult(roots=[Root(uri="file:///workspace/project", name="project")])

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        rec.logs.append(params)

    async def on_message(message: Any) -> None:
        rec.messages.append(message)

    async with (
        httpx2.AsyncClient(headers=headers or None, follow_redirects=True) as http,
        streamable_http_client(url, http_client=http) as (read, write),
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
