"""Rug-pull defence: only pinned, approved definitions reach the client.

Every tool, prompt, resource and resource template an upstream lists, and the
`instructions` of its `initialize` result, is hashed in canonical form
(`mcpwarden.pinning`) and compared with its pin in the store. New or changed definitions
are held back from the listing and recorded as pending with a diff; calls to them are
denied with a reason that names the pin, until someone runs `mcpwarden pins approve`.
Resources are pinned by URI; a read of a held-back resource, or of a URI that only a
held-back template produces, is denied. Held-back instructions are removed from the
`initialize` result (the session still works, without them).

Approvals are made by another process (the CLI) while the gateway runs, so the guard
caches pins and re-reads them only when `store.revision()` changes: a call costs one
`PRAGMA data_version`, never a table query, when nothing changed.

What an upstream offers is remembered per client session: over stdio every session has its
own server process, and one process still offering the approved definition must not make
the tool callable in a session whose process pulled the rug. After an upstream announces
`notifications/*/list_changed`, calls to it wait until the gateway's re-list has passed
through this guard, so no call slips in between the announcement and the re-check.
"""

from __future__ import annotations

import asyncio
import shlex
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Literal

from mcpwarden.guards.base import Guard
from mcpwarden.pinning import body_hash, definition_diff, definition_hash
from mcpwarden.pinning.templates import template_matches
from mcpwarden.store import Pin, Store
from mcpwarden.types import JSON, Decision, Exchange

Mode = Literal["approve", "tofu", "locked"]
MODES: tuple[Mode, ...] = ("approve", "tofu", "locked")

# (result key of the list, kind stored in pins, key of the definition's identity)
_LISTS: dict[str, tuple[str, str]] = {
    "tool": ("tools", "name"),
    "prompt": ("prompts", "name"),
    "resource": ("resources", "uri"),
    "resource_template": ("resourceTemplates", "name"),
}
# Which kinds a list_changed notification announces.
_CHANGED: dict[str, tuple[str, ...]] = {
    "notifications/tools/list_changed": ("tool",),
    "notifications/prompts/list_changed": ("prompt",),
    "notifications/resources/list_changed": ("resource", "resource_template"),
}
INSTRUCTIONS = "instructions"  # the one name of the `instructions` kind
# Sessions whose offered definitions are remembered; an evicted session falls back to the
# strict rule (only an approved pin with nothing pending is callable).
LIVE_SESSIONS = 10_000
# Longest a call waits for the re-check that a list_changed notification started.
RECHECK_WAIT_S = 10.0

_LiveKey = tuple[str | None, str, str]  # (session, upstream, kind)


def _identity(kind: str, item: dict[str, Any]) -> str | None:
    if kind == "resource":  # names of resources need not be unique; URIs are
        uri = item.get("uri")
        return uri if isinstance(uri, str) and uri else None
    name = item.get("name")
    if isinstance(name, str) and name:
        return name
    if kind == "resource_template" and isinstance(item.get("uriTemplate"), str):
        return str(item["uriTemplate"])
    return None


def _pins_command(action: str, upstream: str, kind: str, name: str) -> str:
    """The exact CLI line for a pin, quoted for a shell, so it can be pasted as shown."""
    words = ["mcpwarden", "pins", action, upstream, name]
    if kind != "tool":  # the CLI's default kind
        words += ["--kind", kind]
    return shlex.join(words)


class PinningGuard(Guard):
    name = "pinning"

    def __init__(
        self,
        store: Store,
        modes: Mapping[str, Mode],
        *,
        default_mode: Mode = "approve",
        tofu_approver: str = "tofu",
        recheck_wait_s: float = RECHECK_WAIT_S,
    ) -> None:
        for upstream, mode in {**modes, "*": default_mode}.items():
            if mode not in MODES:
                raise ValueError(
                    f"pinning mode for {upstream!r} must be one of {', '.join(MODES)}, not {mode!r}"
                )
        self.store = store
        self.modes = dict(modes)
        self.default_mode: Mode = default_mode
        self.tofu_approver = tofu_approver
        self._lock = threading.Lock()
        self._revision: tuple[int, ...] | None = None
        self._pins: dict[tuple[str, str], dict[str, Pin]] = {}
        self.recheck_wait_s = recheck_wait_s
        # Hash of the definition each upstream listed most recently in each session, by name.
        self._live: OrderedDict[_LiveKey, dict[str, str]] = OrderedDict()
        # Re-checks announced by list_changed and not yet seen through tools_list & co.
        self._rechecks: OrderedDict[_LiveKey, asyncio.Event] = OrderedDict()
        # uriTemplate of each listed template definition, by (upstream, name, hash).
        self._templates: OrderedDict[tuple[str, str, str], str] = OrderedDict()

    def mode_for(self, upstream: str) -> Mode:
        return self.modes.get(upstream, self.default_mode)

    # -- cache ------------------------------------------------------------------------------

    def _pins_for(self, upstream: str, kind: str) -> dict[str, Pin]:
        with self._lock:
            revision = self.store.revision()
            if revision != self._revision:
                self._pins.clear()
                self._revision = revision
            cached = self._pins.get((upstream, kind))
            if cached is None:
                cached = {p.name: p for p in self.store.list_pins(upstream, kind=kind)}
                self._pins[(upstream, kind)] = cached
            return cached

    # -- per-session state ------------------------------------------------------------------

    @staticmethod
    def _key(ex: Exchange, kind: str) -> _LiveKey:
        return (ex.session_id, ex.upstream, kind)

    def _remember(self, key: _LiveKey, live: dict[str, str]) -> None:
        self._live[key] = live
        self._live.move_to_end(key)
        while len(self._live) > LIVE_SESSIONS:
            self._live.popitem(last=False)
        event = self._rechecks.pop(key, None)
        if event is not None:
            event.set()

    def _remember_template(self, upstream: str, name: str, h: str, uri_template: str) -> None:
        key = (upstream, name, h)
        self._templates[key] = uri_template
        self._templates.move_to_end(key)
        while len(self._templates) > LIVE_SESSIONS:
            self._templates.popitem(last=False)

    async def _await_recheck(self, ex: Exchange, kind: str, name: str) -> Decision | None:
        event = self._rechecks.get(self._key(ex, kind))
        if event is None:
            return None
        try:
            async with asyncio.timeout(self.recheck_wait_s):
                await event.wait()
        except TimeoutError:
            return Decision.deny(
                "pin.recheck_pending",
                f"{kind} {name!r} on {ex.upstream!r} is not callable: the upstream announced changed "
                "definitions and they have not been re-checked yet; list them again",
                upstream=ex.upstream,
                kind=kind,
                name=name,
            )
        return None

    # -- listing ----------------------------------------------------------------------------

    def _check_list(
        self, ex: Exchange, result: JSON, kind: str, *, list_key: str | None = None
    ) -> Decision | None:
        list_key = list_key or _LISTS[kind][0]
        items = result.get(list_key)
        if not isinstance(items, list):
            return None
        upstream = ex.upstream
        alarm = self.store.alarm()
        if alarm is not None:
            # The store cannot be trusted to say what was approved (nor, under tofu, to learn
            # anything new): nothing is listed and nothing is written until an operator rebinds.
            return Decision.rewrite(
                {**result, list_key: []},
                "pin.integrity",
                f"{upstream}: every {kind} definition is held back because the pin store's integrity "
                f"is in doubt ({alarm}); investigate, then run `mcpwarden audit rebind`",
                upstream=upstream,
                kind=kind,
                held=len(items),
            )
        mode = self.mode_for(upstream)
        pins = self._pins_for(upstream, kind)
        live: dict[str, str] = {}
        kept: list[Any] = []
        held: list[dict[str, Any]] = []
        renames: list[dict[str, str]] = []
        listed_names = {_identity(kind, i) for i in items if isinstance(i, dict)}
        for item in items:
            if not isinstance(item, dict):
                continue
            ident = _identity(kind, item)
            if ident is None:
                held.append({"name": None, "hash": None, "reason": "definition has no name"})
                continue
            h = definition_hash(item)
            live[ident] = h
            if kind == "resource_template" and isinstance(item.get("uriTemplate"), str):
                self._remember_template(upstream, ident, h, item["uriTemplate"])
            pin = pins.get(ident)
            if pin is not None and pin.allows(h):
                kept.append(item)
                continue
            entry = self._hold(upstream, kind, ident, item, h, pin, mode)
            if pin is None or not pin.is_approved:  # still a rename on every re-list until approved
                renamed_from = self._renamed_from(pins, item, listed_names)
                if renamed_from is not None:
                    entry["renamed_from"] = renamed_from
                    renames.append({"from": renamed_from, "to": ident, "hash": h})
            if entry.get("status") == "approved":
                kept.append(item)
            else:
                held.append(entry)
        self._remember(self._key(ex, kind), live)
        if not held:
            if renames:
                return Decision.alert(
                    "pin.renamed",
                    f"{upstream}: {', '.join(r['from'] + ' -> ' + r['to'] for r in renames)} "
                    "(same definition under a new name)",
                    upstream=upstream,
                    kind=kind,
                    renamed=renames,
                )
            return None
        names = ", ".join(f"{e['name']} ({str(e['hash'])[:12]}, {e['reason']})" for e in held)
        return Decision.rewrite(
            {**result, list_key: kept},
            "pin.quarantined",
            f"{upstream}: held back {len(held)} {kind} definition(s) pending approval: {names}",
            upstream=upstream,
            kind=kind,
            mode=mode,
            quarantined=held,
            renamed=renames or None,
        )

    def _hold(
        self, upstream: str, kind: str, ident: str, item: dict[str, Any], h: str, pin: Pin | None, mode: Mode
    ) -> dict[str, Any]:
        """Record a definition that is not (yet) approved; returns the audit entry for it."""
        if pin is None:
            if mode == "tofu":
                self.store.new_pin(
                    upstream, kind, ident, item, h, status="approved", approved_by=self.tofu_approver
                )
                return {"name": ident, "hash": h, "status": "approved", "reason": "first seen (tofu)"}
            status: Literal["quarantined", "rejected"] = "rejected" if mode == "locked" else "quarantined"
            self.store.new_pin(upstream, kind, ident, item, h, status=status)
            reason = "not in the locked set" if mode == "locked" else "new definition"
            return {"name": ident, "hash": h, "status": status, "reason": reason}
        if h == pin.hash:
            reason = "rejected" if pin.status == "rejected" else "awaiting approval"
            return {"name": ident, "hash": h, "status": pin.status, "reason": reason, "pin": pin.hash}
        diff = definition_diff(
            pin.definition,
            item,
            old_label=f"{upstream}/{ident}@{pin.hash[:12]}",
            new_label=f"offered@{h[:12]}",
        )
        if self.store.record_pending(upstream, kind, ident, item, h, diff) and mode == "locked":
            self.store.set_status(upstream, kind, ident, "rejected", by="locked-mode")
        refused = mode == "locked" or (pin.pending_hash == h and pin.status == "rejected")
        status_now = "rejected" if refused else "quarantined"
        return {
            "name": ident,
            "hash": h,
            "status": status_now,
            "reason": "definition changed since it was pinned",
            "pin": pin.hash,
            "diff": diff,
        }

    @staticmethod
    def _renamed_from(pins: Mapping[str, Pin], item: dict[str, Any], listed: set[str | None]) -> str | None:
        """An approved pin, no longer listed, whose definition equals `item` apart from the name."""
        target = body_hash(item)
        for name, pin in pins.items():
            if name not in listed and pin.is_approved and body_hash(pin.definition) == target:
                return name
        return None

    # -- requests ---------------------------------------------------------------------------

    async def _check_use(self, ex: Exchange, kind: str, name: Any) -> Decision | None:
        if not isinstance(name, str):
            return None
        alarm = self.store.alarm()
        if alarm is not None:
            return Decision.deny(
                "pin.integrity",
                f"{kind} {name!r} on {ex.upstream!r} is not callable: the pin store's integrity is in "
                f"doubt ({alarm}); pin decisions fail closed until an operator runs `mcpwarden audit rebind`",
                upstream=ex.upstream,
                kind=kind,
                name=name,
            )
        waited = await self._await_recheck(ex, kind, name)
        if waited is not None:
            return waited
        pin = self._pins_for(ex.upstream, kind).get(name)
        live = self._live.get(self._key(ex, kind), {}).get(name)
        if pin is not None:
            allowed = pin.allows(live) if live is not None else pin.is_approved and pin.pending_hash is None
            if allowed:
                return None
            shown = live or pin.candidate_hash
            why = (
                f"offered definition {shown[:12]} does not match approved pin {pin.hash[:12]}"
                if pin.is_approved
                else f"pin {pin.hash[:12]} has not been approved"
            )
            return Decision.deny(
                "pin.unapproved",
                f"{kind} {name!r} on {ex.upstream!r} is not callable: {why} (status {pin.status}); "
                f"review with `{_pins_command('diff', ex.upstream, kind, name)}` and approve with "
                f"`{_pins_command('approve', ex.upstream, kind, name)}`",
                upstream=ex.upstream,
                kind=kind,
                name=name,
                pin=pin.hash,
                offered=live,
                status=pin.status,
            )
        return Decision.deny(
            "pin.unapproved",
            f"{kind} {name!r} on {ex.upstream!r} has no approved pin; list it first, then approve it with "
            f"`{_pins_command('approve', ex.upstream, kind, name)}`",
            upstream=ex.upstream,
            kind=kind,
            name=name,
            pin=None,
        )

    # -- hooks ------------------------------------------------------------------------------

    async def tools_list(self, ex: Exchange, result: JSON) -> Decision | None:
        return self._check_list(ex, result, "tool")

    async def prompts_list(self, ex: Exchange, result: JSON) -> Decision | None:
        return self._check_list(ex, result, "prompt")

    async def resource_templates_list(self, ex: Exchange, result: JSON) -> Decision | None:
        return self._check_list(ex, result, "resource_template")

    async def resources_list(self, ex: Exchange, result: JSON) -> Decision | None:
        return self._check_list(ex, result, "resource")

    async def initialize_result(self, ex: Exchange, result: JSON) -> Decision | None:
        """Pin the server's `instructions` like a definition; held back, they are left out."""
        text = result.get("instructions")
        if not isinstance(text, str) or not text:
            return None
        listed = {"instructions": [{"name": INSTRUCTIONS, "instructions": text}]}
        decision = self._check_list(ex, listed, INSTRUCTIONS, list_key="instructions")
        if decision is None or decision.kind != "rewrite":
            return decision
        kept = {k: v for k, v in result.items() if k != "instructions"}
        return Decision(decision.kind, decision.reason, decision.message, kept, decision.details)

    async def resource_read_request(self, ex: Exchange, params: JSON) -> Decision | None:
        uri = params.get("uri")
        if not isinstance(uri, str):
            return None
        if uri in self._pins_for(ex.upstream, "resource"):
            return await self._check_use(ex, "resource", uri)
        return self._check_template_use(ex, uri)

    def _check_template_use(self, ex: Exchange, uri: str) -> Decision | None:
        """A URI no resource pin names is allowed unless only a held-back template produces it."""
        live = self._live.get(self._key(ex, "resource_template"), {})
        pins = self._pins_for(ex.upstream, "resource_template")
        held: str | None = None
        for name, h in live.items():
            pin = pins.get(name)
            template = self._templates.get((ex.upstream, name, h))
            if template is None or not template_matches(template, uri):
                continue
            if pin is not None and pin.allows(h):
                return None
            held = name
        if held is None:
            return None
        command = _pins_command("approve", ex.upstream, "resource_template", held)
        return Decision.deny(
            "pin.unapproved",
            f"resource {uri!r} on {ex.upstream!r} comes from resource_template {held!r}, which is held "
            f"back pending approval; approve it with `{command}`",
            upstream=ex.upstream,
            kind="resource_template",
            name=held,
        )

    async def tool_call(self, ex: Exchange, params: JSON) -> Decision | None:
        return await self._check_use(ex, "tool", params.get("name", ex.tool))

    async def prompt_get_request(self, ex: Exchange, params: JSON) -> Decision | None:
        return await self._check_use(ex, "prompt", params.get("name"))

    async def notification(self, ex: Exchange, msg: JSON) -> Decision | None:
        """An upstream's list_changed: hold its calls until the session's re-list is checked."""
        kinds = _CHANGED.get(str(msg.get("method")), ())
        if ex.upstream == "*":  # "*": a notification from the client
            return None
        for kind in kinds:
            key = self._key(ex, kind)
            if key not in self._rechecks:
                self._rechecks[key] = asyncio.Event()
                while len(self._rechecks) > LIVE_SESSIONS:
                    self._rechecks.popitem(last=False)  # its waiters time out and are denied
        return None
