"""Configuration reload on SIGHUP, without dropping sessions.

Why its own module: it is about a replica's life in a fleet, not about MCP. (Graceful stop
on SIGTERM is `GatewayCore.drain`, run by `commands.serve`; while it runs `core.draining`
is set, so `/readyz` says 503 and `initialize` is refused.)

SIGHUP re-reads the config file and swaps in a guard pipeline built from it; sessions
keep their upstream connections and see the new rules at their next request. Settings
that cannot change under a running process (listen address, store, replica id, auth,
the upstream list and how each upstream is reached) are left as they are and named in the
log and the audit record; a file that does not validate is refused.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from mcpwarden.config import ConfigError, GatewayConfig, load_config

if TYPE_CHECKING:
    from mcpwarden.gateway.core import GatewayCore

log = logging.getLogger("mcpwarden.gateway.lifecycle")

# Top-level sections that a reload cannot apply to a running process.
FIXED_SECTIONS = ("listen", "store", "replica", "auth", "public_url", "audit", "tracing")


def fixed_changes(old: GatewayConfig, new: GatewayConfig) -> list[str]:
    """What differs between two configs but needs a restart to take effect."""
    changed = [name for name in FIXED_SECTIONS if getattr(old, name) != getattr(new, name)]
    if set(old.upstreams) != set(new.upstreams):
        changed.append("upstreams (names)")
    for name in set(old.upstreams) & set(new.upstreams):
        before, after = old.upstreams[name], new.upstreams[name]
        if type(before) is not type(after) or _connection(before) != _connection(after):
            changed.append(f"upstreams.{name} (connection)")
    return changed


def _connection(upstream: object) -> tuple[object, ...]:
    return tuple(getattr(upstream, f, None) for f in ("url", "command", "args", "cwd", "env", "credentials"))


class Lifecycle:
    def __init__(
        self,
        core: GatewayCore,
        *,
        config_path: str | Path | None = None,
        overrides: Callable[[GatewayConfig], None] | None = None,
    ) -> None:
        self.core = core
        self.config_path = Path(config_path) if config_path is not None else None
        self.overrides = overrides

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Reload on SIGHUP (only when the gateway runs from a config file)."""
        if self.config_path is not None:
            loop.add_signal_handler(signal.SIGHUP, self.reload)

    # -- reload ------------------------------------------------------------------------------

    def reload(self) -> None:
        assert self.config_path is not None
        try:
            new = load_config(self.config_path)
        except ConfigError as exc:
            log.error("config reload refused: %s", exc)
            self.core.audit_event("config.reload", decision="deny", reason="config.invalid", message=str(exc))
            return
        if self.overrides is not None:
            self.overrides(new)
        ignored = fixed_changes(self.core.config, new)
        apply_config(self.core, new)
        if ignored:
            log.warning("config reloaded; these need a restart and were kept: %s", ", ".join(ignored))
        self.core.audit_event("config.reload", decision="allow", details={"kept_until_restart": ignored})


def apply_config(core: GatewayCore, new: GatewayConfig) -> None:
    """Adopt a reloaded config: new guard rules for every session at its next request.

    What a running process cannot change (`FIXED_SECTIONS`, and how an upstream is reached)
    is kept from the current config.
    """
    from mcpwarden.gateway.guards_setup import build_guards
    from mcpwarden.gateway.pipeline import Pipeline

    keep = {name: getattr(core.config, name) for name in FIXED_SECTIONS}
    upstreams = {
        name: new.upstreams[name]
        if name in new.upstreams
        and type(new.upstreams[name]) is type(old)
        and _connection(new.upstreams[name]) == _connection(old)
        else old
        for name, old in core.config.upstreams.items()
    }
    merged = new.model_copy(update={**keep, "upstreams": upstreams})
    core.pipeline = Pipeline(build_guards(merged), core.audit, instruments=core.pipeline.instruments)
    core.config = merged
