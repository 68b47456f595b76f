"""A minimal Server-Sent Events reader for upstream streams.

Only what MCP uses: `data:` lines joined by newlines, `id:` for resumption, `retry:`,
and events named `message` (or unnamed). Anything else is skipped, not an error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass(slots=True)
class SseEvent:
    data: str
    event: str = "message"
    id: str | None = None
    retry_ms: int | None = None


async def iter_sse(lines: AsyncIterator[str]) -> AsyncIterator[SseEvent]:
    data: list[str] = []
    event = "message"
    event_id: str | None = None
    retry: int | None = None
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if line == "":
            if data or event_id is not None or retry is not None:
                yield SseEvent("\n".join(data), event, event_id, retry)
            data, event, event_id, retry = [], "message", None, None
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            data.append(value)
        elif field == "event":
            event = value or "message"
        elif field == "id":
            event_id = value
        elif field == "retry" and value.isdigit():
            retry = int(value)
    if data:
        yield SseEvent("\n".join(data), event, event_id, retry)
