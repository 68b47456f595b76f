"""Tool-poisoning defence on the gateway path: scan every definition an upstream lists.

Tools, prompts, resources, resource templates and the server's `instructions` are all
model-visible text; the non-tool ones go through the same detector as tool-shaped objects
(`detect.tools.definitions`). A flagged prompt, resource or template is removed from its
listing and uses of it (`prompts/get`, `resources/read`) are denied; flagged instructions
are removed from the `initialize` result.

Per upstream, `quarantine` removes a flagged tool from the listing and denies later calls
to it; `warn` lets it through with an audit alert. Upstreams are also compared with each
other (shadowing: a description that talks about another server's tools; confusable
names), which only an aggregating gateway can see.

Detections are cached by the definition's hash, so a re-listing after
`notifications/tools/list_changed` costs a hash per tool unless something changed.

Which tools are quarantined is remembered per client session, like the pinning guard's
view of what an upstream offers: each session may have its own upstream process, and
another session listing a clean definition must not re-open a poisoned one here.

Cross-server findings about a pair of names (duplicate or confusable) are laid on the
upstream configured later, never on the one that happened to answer later: listings
arrive in any order, and the honest, first-configured server must not be quarantined
because an imitator answered first. A finding about another upstream that only becomes
visible when this one lists (its description names a tool this upstream offers) is
applied to that upstream's quarantine in the same session at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Literal

from mcpwarden.detect.findings import Detection, Severity
from mcpwarden.detect.tools import DEFAULT_THRESHOLD, scan_tool
from mcpwarden.detect.tools.cross import CrossFinding, cross_server_report
from mcpwarden.detect.tools.definitions import instructions_as_tool, prompt_as_tool, resource_as_tool
from mcpwarden.guards.base import Guard
from mcpwarden.pinning import definition_hash
from mcpwarden.pinning.templates import template_matches
from mcpwarden.types import JSON, Decision, Exchange

Action = Literal["quarantine", "warn"]
ACTIONS: tuple[Action, ...] = ("quarantine", "warn")
CACHE_SIZE = 4096
# Cross-server findings this strong act like a flagged detection; weaker ones only alert.
CROSS_FLAG_SEVERITY = Severity.HIGH
# Sessions whose quarantine sets are remembered (oldest forgotten first).
SESSIONS = 10_000

_Key = tuple[str | None, str]  # (session, upstream)
_DefKey = tuple[str | None, str, str]  # (session, upstream, kind)

# kind -> (list key, identity field, adapter to a tool-shaped object)
_DEFINITIONS: dict[str, tuple[str, str, Callable[[Mapping[str, Any]], dict[str, Any]]]] = {
    "prompt": ("prompts", "name", prompt_as_tool),
    "resource": ("resources", "uri", resource_as_tool),
    "resource_template": ("resourceTemplates", "uriTemplate", resource_as_tool),
}


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
        self._quarantined: OrderedDict[_Key, dict[str, dict[str, Any]]] = OrderedDict()
        self._held: OrderedDict[_DefKey, dict[str, dict[str, Any]]] = OrderedDict()
        # Configured upstreams first, in config order; others in the order first seen.
        self._order: dict[str, None] = dict.fromkeys([*self.on_poisoning, *self.quotas])

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

    def _servers(self) -> dict[str, list[dict[str, Any]]]:
        """Every upstream's latest tools, in a fixed order (see the module docstring)."""
        return {name: self._tools[name] for name in self._order if name in self._tools}

    def _quarantine_of(self, session: str | None, upstream: str) -> dict[str, dict[str, Any]]:
        key = (session, upstream)
        found = self._quarantined.get(key)
        if found is None:
            found = self._quarantined[key] = {}
            while len(self._quarantined) > SESSIONS:
                self._quarantined.popitem(last=False)
        self._quarantined.move_to_end(key)
        return found

    async def tools_list(self, ex: Exchange, result: JSON) -> Decision | None:
        items = result.get("tools")
        if not isinstance(items, list):
            return None
        upstream = ex.upstream
        tools = [t for t in items if isinstance(t, dict)]
        names = frozenset(str(t.get("name", "")).lower().replace("-", "_") for t in tools)
        self._tools[upstream] = tools
        self._order.setdefault(upstream, None)

        flagged: dict[int, dict[str, Any]] = {}
        for i, tool in enumerate(tools):
            own = str(tool.get("name", "")).lower().replace("-", "_")
            det = self._detect(tool, names - {own})
            if det.flagged:
                flagged[i] = self._entry(tool, det.score, [f.to_dict() for f in det.findings[:8]])
        cross_alerts: list[dict[str, Any]] = []
        for cf in cross_server_report(self._servers(), self.quotas):
            strong = cf.index is not None and cf.finding.severity >= CROSS_FLAG_SEVERITY
            if cf.server != upstream:
                if strong and self._quarantine_elsewhere(ex.session_id, cf):
                    cross_alerts.append(cf.finding.to_dict())
                continue
            if strong and cf.index is not None:
                entry = flagged.setdefault(cf.index, self._entry(tools[cf.index], 1.0, []))
                entry["findings"].append(cf.finding.to_dict())
            else:
                cross_alerts.append(cf.finding.to_dict())

        action = self.action_for(upstream)
        if action == "quarantine":
            held = self._quarantine_of(ex.session_id, upstream)
            held.clear()
            held.update((e["name"], e) for e in flagged.values())
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

    def _quarantine_elsewhere(self, session: str | None, cf: CrossFinding) -> bool:
        """Quarantine another upstream's tool named by a finding this listing revealed.

        Returns True when that is news (the finding is then reported with this listing).
        """
        if cf.index is None or self.action_for(cf.server) != "quarantine":
            return False
        tool = self._tools[cf.server][cf.index]
        held = self._quarantine_of(session, cf.server)
        name = str(tool.get("name"))
        if name in held:
            return False
        held[name] = self._entry(tool, 1.0, [cf.finding.to_dict()])
        return True

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
        entry = self._quarantined.get((ex.session_id, ex.upstream), {}).get(str(name))
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

    # -- prompts, resources, templates, instructions -----------------------------------------

    def _definitions(self, ex: Exchange, result: JSON, kind: str) -> Decision | None:
        list_key, ident_key, adapt = _DEFINITIONS[kind]
        items = result.get(list_key)
        if not isinstance(items, list):
            return None
        flagged: dict[int, dict[str, Any]] = {}
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            det = self._detect(adapt(item), frozenset())
            if det.flagged:
                entry = self._entry(item, det.score, [f.to_dict() for f in det.findings[:8]])
                entry["name"] = str(item.get(ident_key) or item.get("name"))
                flagged[i] = entry
        action = self.action_for(ex.upstream)
        if action == "quarantine":
            key = (ex.session_id, ex.upstream, kind)
            held = self._held.setdefault(key, {})
            self._held.move_to_end(key)
            while len(self._held) > SESSIONS:
                self._held.popitem(last=False)
            held.clear()
            held.update((e["name"], e) for e in flagged.values())
        if not flagged:
            return None
        listed = ", ".join(f"{e['name']} ({e['score']:.2f})" for e in flagged.values())
        if action == "quarantine":
            kept = [t for i, t in enumerate(items) if i not in flagged]
            return Decision.rewrite(
                {**result, list_key: kept},
                "poison.quarantined",
                f"{ex.upstream}: removed {len(flagged)} {kind} definition(s) that look poisoned: {listed}",
                upstream=ex.upstream,
                kind=kind,
                definitions=list(flagged.values()),
            )
        return Decision.alert(
            "poison.suspected",
            f"{ex.upstream}: {kind} {listed}",
            upstream=ex.upstream,
            kind=kind,
            definitions=list(flagged.values()),
        )

    async def prompts_list(self, ex: Exchange, result: JSON) -> Decision | None:
        return self._definitions(ex, result, "prompt")

    async def resources_list(self, ex: Exchange, result: JSON) -> Decision | None:
        return self._definitions(ex, result, "resource")

    async def resource_templates_list(self, ex: Exchange, result: JSON) -> Decision | None:
        return self._definitions(ex, result, "resource_template")

    async def initialize_result(self, ex: Exchange, result: JSON) -> Decision | None:
        text = result.get("instructions")
        if not isinstance(text, str) or not text:
            return None
        det = self._detect(instructions_as_tool(text), frozenset())
        if not det.flagged:
            return None
        details = {
            "upstream": ex.upstream,
            "kind": "instructions",
            "score": round(det.score, 4),
            "findings": [f.to_dict() for f in det.findings[:8]],
        }
        if self.action_for(ex.upstream) == "quarantine":
            kept = {k: v for k, v in result.items() if k != "instructions"}
            message = f"{ex.upstream}: removed server instructions that look poisoned ({det.score:.2f})"
            return Decision.rewrite(kept, "poison.quarantined", message, **details)
        return Decision.alert(
            "poison.suspected", f"{ex.upstream}: server instructions ({det.score:.2f})", **details
        )

    def _held_use(self, ex: Exchange, kind: str, name: str) -> dict[str, Any] | None:
        return self._held.get((ex.session_id, ex.upstream, kind), {}).get(name)

    async def prompt_get_request(self, ex: Exchange, params: JSON) -> Decision | None:
        name = str(params.get("name"))
        entry = self._held_use(ex, "prompt", name)
        return None if entry is None else self._deny_use(ex, "prompt", name, entry)

    async def resource_read_request(self, ex: Exchange, params: JSON) -> Decision | None:
        uri = str(params.get("uri"))
        entry = self._held_use(ex, "resource", uri)
        if entry is not None:
            return self._deny_use(ex, "resource", uri, entry)
        for template, held in self._held.get((ex.session_id, ex.upstream, "resource_template"), {}).items():
            if template_matches(template, uri):
                return self._deny_use(ex, "resource_template", template, held)
        return None

    @staticmethod
    def _deny_use(ex: Exchange, kind: str, name: str, entry: dict[str, Any]) -> Decision:
        rules = sorted({f["rule"] for f in entry["findings"]})
        return Decision.deny(
            "poison.quarantined",
            f"{kind} {name!r} on {ex.upstream!r} is quarantined: its definition looks poisoned "
            f"(score {entry['score']:.2f}; {', '.join(rules[:5])})",
            upstream=ex.upstream,
            kind=kind,
            name=name,
            hash=entry["hash"],
        )
