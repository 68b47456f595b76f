"""Rug-pull defence: only pinned, approved definitions reach the client.

Every tool, prompt and resource template an upstream lists is hashed in canonical form
(`mcpwarden.pinning`) and compared with its pin in the store. New or changed definitions
are held back from the listing and recorded as pending with a diff; calls to them are
denied with a reason that names the pin, until someone runs `mcpwarden pins approve`.

Approvals are made by another process (the CLI) while the gateway runs, so the guard
caches pins and re-reads them only when `store.revision()` changes: a call costs one
`PRAGMA data_version`, never a table query, when nothing changed.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Literal

from mcpwarden.guards.base import JSON, Decision, Exchange, Guard
from mcpwarden.pinning import body_hash, definition_diff, definition_hash
from mcpwarden.store import Pin, Store

Mode = Literal["approve", "tofu", "locked"]
MODES: tuple[Mode, ...] = ("approve", "tofu", "locked")

# (result key of the list, kind stored in pins, key of the definition's identity)
_LISTS: dict[str, tuple[str, str]] = {
    "tool": ("tools", "name"),
    "prompt": ("prompts", "name"),
    "resource_template": ("resourceTemplates", "name"),
}


def _identity(kind: str, item: dict[str, Any]) -> str | None:
    name = item.get("name")
    if isinstance(name, str) and name:
        return name
    if kind == "resource_template" and isinstance(item.get("uriTemplate"), str):
        return str(item["uriTemplate"])
    return None


class PinningGuard(Guard):
    name = "pinning"

    def __init__(
        self,
        store: Store,
        modes: Mapping[str, Mode],
        *,
        default_mode: Mode = "approve",
        tofu_approver: str = "tofu",
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
        # Hash of the definition each upstream listed most recently, per kind and name.
        self._live: dict[tuple[str, str], dict[str, str]] = {}

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

    # -- listing ----------------------------------------------------------------------------

    def _check_list(self, ex: Exchange, result: JSON, kind: str) -> Decision | None:
        list_key, _ = _LISTS[kind]
        items = result.get(list_key)
        if not isinstance(items, list):
            return None
        upstream = ex.upstream
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
            pin = pins.get(ident)
            if pin is not None and pin.allows(h):
                kept.append(item)
                continue
            entry = self._hold(upstream, kind, ident, item, h, pin, mode)
            if pin is None:
                renamed_from = self._renamed_from(pins, item, listed_names)
                if renamed_from is not None:
                    entry["renamed_from"] = renamed_from
                    renames.append({"from": renamed_from, "to": ident, "hash": h})
            if entry.get("status") == "approved":
                kept.append(item)
            else:
                held.append(entry)
        self._live[(upstream, kind)] = live
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

    def _check_use(self, ex: Exchange, kind: str, name: Any) -> Decision | None:
        if not isinstance(name, str):
            return None
        pin = self._pins_for(ex.upstream, kind).get(name)
        live = self._live.get((ex.upstream, kind), {}).get(name)
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
                "review with "
                f"`mcpwarden pins diff {ex.upstream} {name}` and approve with "
                f"`mcpwarden pins approve {ex.upstream} {name}`",
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
            f"`mcpwarden pins approve {ex.upstream} {name}`",
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

    async def tool_call(self, ex: Exchange, params: JSON) -> Decision | None:
        return self._check_use(ex, "tool", params.get("name", ex.tool))

    async def prompt_get_request(self, ex: Exchange, params: JSON) -> Decision | None:
        return self._check_use(ex, "prompt", params.get("name"))
