"""Per-upstream tool allow/deny lists: the simplest least-privilege control.

A tool that is not allowed is both hidden from tools/list and refused on tools/call, so a
client that guesses its name gets the same answer as one that never saw it.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase

from mcpwarden.config import ToolFilter
from mcpwarden.guards.base import Guard
from mcpwarden.types import JSON, Decision, Exchange


class ToolFilterGuard(Guard):
    name = "tool_filter"

    def __init__(self, filters: Mapping[str, ToolFilter]) -> None:
        # Upstreams with an empty filter are left out, so they cost nothing per call.
        self.filters = {k: v for k, v in filters.items() if v.allow or v.deny}

    def allowed(self, upstream: str, tool: str) -> bool:
        f = self.filters.get(upstream)
        if f is None:
            return True
        if any(fnmatchcase(tool, pat) for pat in f.deny):
            return False
        return not f.allow or any(fnmatchcase(tool, pat) for pat in f.allow)

    async def tools_list(self, ex: Exchange, result: JSON) -> Decision | None:
        if ex.upstream not in self.filters:
            return None
        tools = result.get("tools") or []
        kept = [t for t in tools if isinstance(t, dict) and self.allowed(ex.upstream, str(t.get("name")))]
        if len(kept) == len(tools):
            return None
        hidden = sorted(str(t.get("name")) for t in tools if t not in kept)
        return Decision.rewrite({**result, "tools": kept}, "tool.hidden", hidden=hidden)

    async def tool_call(self, ex: Exchange, params: JSON) -> Decision | None:
        tool = str(params.get("name"))
        if self.allowed(ex.upstream, tool):
            return None
        return Decision.deny("tool.denied", f"tool {tool!r} is not allowed on upstream {ex.upstream!r}")
