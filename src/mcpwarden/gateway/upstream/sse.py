"""A minimal Server-Sent Events reader for upstream streams, bounded while it reads.

Only what MCP uses: `data:` lines joined by newlines, `id:` for resumption, `retry:`,
and events named `message` (or unnamed). Unknown fields are skipped, as the SSE spec says.
Every line, and every event's accumulated data, is capped: the bytes of one event (comments
and unknown fields included) may not exceed `max_event_bytes`, so an upstream can neither
send one huge event nor pad forever between events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from mcpwarden.gateway.upstream.limits import Garbage, Oversize, TooLarge

# Lines with a field MCP never uses, per stream. The SSE spec says to ignore them, and a few
# are; a stream of nothing else is an upstream speaking garbage, which gets an error now
# rather than a timeout later.
MAX_UNKNOWN_LINES = 100


@dataclass(slots=True)
class SseEvent:
    data: str
    event: str = "message"
    id: str | None = None
    retry_ms: int | None = None


async def iter_sse(lines: AsyncIterator[bytes | Oversize], max_event_bytes: int) -> AsyncIterator[SseEvent]:
    """Events from capped lines; raises TooLarge when one event goes past `max_event_bytes`."""
    data: list[str] = []
    event = "message"
    event_id: str | None = None
    retry: int | None = None
    size = 0
    unknown = 0
    async for raw in lines:
        if isinstance(raw, Oversize):
            raise TooLarge("upstream event", raw.cap, raw.prefix)
        if not raw:
            if data or event_id is not None or retry is not None:
                yield SseEvent("\n".join(data), event, event_id, retry)
            data, event, event_id, retry, size = [], "message", None, None, 0
            continue
        size += len(raw) + 1
        if size > max_event_bytes:
            raise TooLarge("upstream event", max_event_bytes, raw[:512])
        if raw.startswith(b":"):
            continue
        line = raw.decode("utf-8", "replace")
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
        else:
            unknown += 1
            if unknown > MAX_UNKNOWN_LINES:
                raise Garbage(f"more than {MAX_UNKNOWN_LINES} lines that are not SSE fields MCP uses")
    if data:
        yield SseEvent("\n".join(data), event, event_id, retry)
