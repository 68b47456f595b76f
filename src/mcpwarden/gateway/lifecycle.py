"""Graceful drain on SIGTERM and configuration reload on SIGHUP.

Why its own module: both are about a replica's life in a fleet, not about MCP. A rolling
upgrade sends SIGTERM; the replica then

1. stops taking new sessions (initialize answers 503 `gateway.draining`) and reports
   not-ready on `/readyz`, so the load balancer sends new clients elsewhere;
2. lets the calls already in flight finish, up to `sessions.drain_timeout_s`;
3. stops (uvicorn closes the listener; sessions still open are ended).

SIGHUP re-reads the config file and swaps in a guard pipeline built from it; sessions
keep their upstream connections and see the new rules at their next request. Settings
that cannot change under a running process (listen address, store, replica id, auth,
the upstream list) are left as they are and named in the log and the audit record.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from mcpwarden.config import ConfigError, GatewayConfig, load_config

if TYPE_CHECKING:
    from mcpwarden.gateway.core import GatewayCore

log = logging.getLogger("mcpwarden.gateway.lifecycle")

DRAIN_POLL_S = 0.05
# Top-level sections that a reload cannot apply to a running process.
FIXED_SECTIONS = ("listen", "store", "replica", "auth", "public_url", "audit")


def in_flight(core: GatewayCore) -> int:
    """Client requests not yet answered, over every session."""
    return sum(len(s.calls.channels) for s in core.sessions.values())


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
        request_exit: Callable[[], None],
        *,
        config_path: str | Path | None = None,
        overrides: Callable[[GatewayConfig], None] | None = None,
    ) -> None:
        self.core = core
        self.request_exit = request_exit
        self.config_path = Path(config_path) if config_path is not None else None
        self.overrides = overrides
        self._drain: asyncio.Task[None] | None = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Take SIGTERM and SIGHUP from uvicorn (call once the server has started)."""
        loop.add_signal_handler(signal.SIGTERM, self.begin_drain)
        if self.config_path is not None:
            loop.add_signal_handler(signal.SIGHUP, self.reload)

    # -- drain -------------------------------------------------------------------------------

    def begin_drain(self) -> None:
        if self._drain is not None:
            return
        self.core.draining = True
        self.core.audit_event("gateway.drain", details={"in_flight": in_flight(self.core)})
        self._drain = asyncio.get_running_loop().create_task(self._wait_and_exit(), name="drain")

    async def _wait_and_exit(self) -> None:
        deadline = time.monotonic() + self.core.config.sessions.drain_timeout_s
        while in_flight(self.core) and time.monotonic() < deadline:
            await asyncio.sleep(DRAIN_POLL_S)
        left = in_flight(self.core)
        if left:
            log.warning("drain deadline passed with %d calls in flight; stopping anyway", left)
        self.core.audit_event("gateway.drained", details={"abandoned": left})
        self.request_exit()

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
        self.core.apply_config(new)
        if ignored:
            log.warning("config reloaded; these need a restart and were kept: %s", ", ".join(ignored))
        self.core.audit_event("config.reload", decision="allow", details={"kept_until_restart": ignored})
