"""A cap on the size of what an upstream returns, so one huge result cannot flood a client
(or its model's context) and detectors always work within a bounded budget.

The cap measures the result once, as serialized JSON bytes. A tool result may carry the
same data twice: as `content` (for the model) and as `structuredContent` (for programs),
and a server such as server-filesystem sends a file's text in both. A client shows one
or the other, so the two count as one: the size is everything else in the result plus
the larger of the two. Without that, reading a 650 KB file was refused under a 1 MiB cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from mcpwarden.guards.base import Guard
from mcpwarden.types import JSON, Decision, Exchange


def result_size(result: JSON) -> int:
    """Serialized bytes of `result`, counting `content` and `structuredContent` once."""
    if "content" not in result or "structuredContent" not in result:
        return len(orjson.dumps(result))
    rest: dict[str, Any] = {k: v for k, v in result.items() if k not in {"content", "structuredContent"}}
    content = len(orjson.dumps(result["content"]))
    structured = len(orjson.dumps(result["structuredContent"]))
    return len(orjson.dumps(rest)) + max(content, structured)


class ResultSizeGuard(Guard):
    name = "result_size"

    def __init__(self, caps: Mapping[str, int | None]) -> None:
        self.caps = {k: v for k, v in caps.items() if v is not None}

    def _check(self, ex: Exchange, result: JSON) -> Decision | None:
        cap = self.caps.get(ex.upstream)
        if cap is None:
            return None
        size = result_size(result)
        if size <= cap:
            return None
        return Decision.deny(
            "result.too_large",
            f"result of {ex.method} from {ex.upstream!r} is {size} bytes, over the {cap}-byte cap",
            size=size,
            cap=cap,
        )

    async def tool_result(self, ex: Exchange, result: JSON) -> Decision | None:
        return self._check(ex, result)

    async def resource_read(self, ex: Exchange, result: JSON) -> Decision | None:
        return self._check(ex, result)

    async def prompt_get(self, ex: Exchange, result: JSON) -> Decision | None:
        return self._check(ex, result)

    async def result(self, ex: Exchange, result: JSON) -> Decision | None:
        return self._check(ex, result)
