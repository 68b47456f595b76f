"""A cap on the size of what an upstream returns, so one huge result cannot flood a client
(or its model's context) and detectors always work within a bounded budget."""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from mcpwarden.guards.base import Guard
from mcpwarden.types import JSON, Decision, Exchange


class ResultSizeGuard(Guard):
    name = "result_size"

    def __init__(self, caps: Mapping[str, int | None]) -> None:
        self.caps = {k: v for k, v in caps.items() if v is not None}

    def _check(self, ex: Exchange, result: JSON) -> Decision | None:
        cap = self.caps.get(ex.upstream)
        if cap is None:
            return None
        size = len(orjson.dumps(result))
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
