"""Tool-poisoning defence on the gateway path: scan every tools/list an upstream returns.

Per upstream, `quarantine` removes a flagged tool from the listing and denies later calls
to it; `warn` lets it through with an audit alert. Upstreams are also compared with each
other (shadowing: a description that talks about another server's tools; confusable
names), which only an aggregating gateway can see.

Detections are cached by the definition's hash, so a re-listing after
`notifications/tools/list_changed` costs a hash per tool unless something changed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Literal

from mcpwarden.detect.findings import Detection, Severity
from mcpwarden.detect.tools import DEFAULT_THRESHOLD, scan_tool
from mcpwarden.detect.tools.cross import cross_server_report
from mcpwarden.guards.base import JSON, Decision, Exchange, Guard
from mcpwarden.pinning import definition_hash

Action = Literal["quarantine", "warn"]
ACTIONS: tuple[Action, ...] = ("quarantine", "warn")
CACHE_SIZE = 4096
# Cross-server findings this strong act like a flagged detection; weaker ones only alert.
CROSS_FLAG_SEVERITY = Severity.HIGH


class PoisoningGuard(Guard):
    name = "poisoning"

    def __init__(
        self,
        on_poisoning: Mapping[str, Action],
        *,
        default: Action = "quarantine",
        threshold: float = DEFAULT_THRESHOLD,
        quotas: Mapping[str, int] | None = None,
    ) -> None:
        for upstream, action in {**on_poisoning, "*": default}.items():
            if action not in ACTIONS:
                raise ValueError(f"on_poisoning for {upstream!r} must be quarantine or warn, not {action!r}")
        self.on_poisoning = dict(on_poisoning)
        self.default: Action = default
        self.threshold = threshold
        self.quotas = dict(quotas or {})
        self._cache: OrderedDict[tuple[str, frozenset[str]], Detection] = OrderedDict()
        self._tools: dict[str, list[dict[str, Any]]] = {}
        self._quarantined: dict[str, dict[str, dict[str, Any]]] = {}

    def action_for(self, upstream: str) -> Action:
        return self.on_poisoning.get(upstream, self.default)

    def _detect(self, tool: dict[str, Any], siblings: frozenset[str]) -> Detection:
        key = (definition_hash(tool), siblings)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        detection = scan_tool(tool, threshold=self.threshold, other_tools=siblings)
        self._cache[key] = detection
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return detection

    async def tools_list(self, ex: Exchange, result: JSON) -> Decision | None:
        items = result.get("tools")
        if not isinstance(items, list):
            return None
        upstream = ex.upstream
        tools = [t for t in items if isinstance(t, dict)]
        names = frozenset(str(t.get("name", "")).lower().replace("-", "_") for t in tools)
        self._tools[upstream] = tools

        flagged: dict[int, dict[str, Any]] = {}
        for i, tool in enumerate(tools):
            own = str(tool.get("name", "")).lower().replace("-", "_")
            det = self._detect(tool, names - {own})
            if det.flagged:
                flagged[i] = self._entry(tool, det.score, [f.to_dict() for f in det.findings[:8]])
        cross_alerts: list[dict[str, Any]] = []
        for cf in cross_server_report(self._tools, self.quotas):
            if cf.server != upstream:
                continue
            if cf.index is not None and cf.finding.severity >= CROSS_FLAG_SEVERITY:
                entry = flagged.setdefault(cf.index, self._entry(tools[cf.index], 1.0, []))
                entry["findings"].append(cf.finding.to_dict())
            else:
                cross_alerts.append(cf.finding.to_dict())

        action = self.action_for(upstream)
        if action == "quarantine":
            self._quarantined[upstream] = {e["name"]: e for e in flagged.values()}
        if not flagged and not cross_alerts:
            return None
        listed = ", ".join(f"{e['name']} ({e['score']:.2f})" for e in flagged.values())
        if action == "quarantine" and flagged:
            kept = [t for i, t in enumerate(tools) if i not in flagged]
            return Decision.rewrite(
                {**result, "tools": kept},
                "poison.quarantined",
                f"{upstream}: removed {len(flagged)} tool(s) that look poisoned: {listed}",
                upstream=upstream,
                tools=list(flagged.values()),
                cross_server=cross_alerts or None,
            )
        return Decision.alert(
            "poison.suspected",
            f"{upstream}: {listed or 'cross-server findings'}",
            upstream=upstream,
            tools=list(flagged.values()) or None,
            cross_server=cross_alerts or None,
        )

    @staticmethod
    def _entry(tool: dict[str, Any], score: float, findings: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "name": str(tool.get("name")),
            "hash": definition_hash(tool),
            "score": round(score, 4),
            "findings": findings,
        }

    async def tool_call(self, ex: Exchange, params: JSON) -> Decision | None:
        name = params.get("name", ex.tool)
        entry = self._quarantined.get(ex.upstream, {}).get(str(name))
        if entry is None:
            return None
        rules = sorted({f["rule"] for f in entry["findings"]})
        return Decision.deny(
            "poison.quarantined",
            f"tool {name!r} on {ex.upstream!r} is quarantined: its definition looks poisoned "
            f"(score {entry['score']:.2f}; {', '.join(rules[:5])})",
            upstream=ex.upstream,
            name=name,
            hash=entry["hash"],
        )
