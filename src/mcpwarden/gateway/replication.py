"""What several replicas add to one gateway: the shared registry, readiness, stray sessions.

Kept out of `gateway.core` and `gateway.front` so that each stays one job; this module
imports neither (it takes what it needs as arguments), so the import graph stays acyclic.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Protocol

from mcpwarden.gateway.http_errors import HttpRejection
from mcpwarden.gateway.session_registry import SessionRegistry
from mcpwarden.store.base import StoreUnavailable

if TYPE_CHECKING:
    from mcpwarden.config import GatewayConfig
    from mcpwarden.gateway.replica_registry import ReplicaSessionRegistry
    from mcpwarden.store.factory import Backends


class _Core(Protocol):
    config: GatewayConfig
    replica_id: str
    draining: bool
    store_error: str | None
    backends: Backends | None
    registry: SessionRegistry | ReplicaSessionRegistry | None


def open_registry(
    config: GatewayConfig, replica_id: str
) -> tuple[SessionRegistry | ReplicaSessionRegistry, Backends | None]:
    """The live-session table: the SQLite file, or PostgreSQL + Redis shared by replicas."""
    if config.store.backend == "sqlite":
        return SessionRegistry(config.store.path), None
    from mcpwarden.gateway.replica_registry import ReplicaSessionRegistry
    from mcpwarden.store.factory import open_backends

    backends = open_backends(config.store, replica_id)
    assert backends.pool is not None and backends.redis is not None
    registry = ReplicaSessionRegistry(
        backends.pool,
        backends.redis,
        backends.feed,
        prefix=config.store.redis_prefix,
        replica=replica_id,
        replica_url=config.replica.url,
        session_ttl_s=config.sessions.max_age_s,
    )
    registry.heartbeat()
    return registry, backends


def readiness(core: _Core) -> tuple[bool, dict[str, Any]]:
    """Ready: the store answers, an upstream is configured, not draining; and each check."""
    checks: dict[str, Any] = {"replica": core.replica_id, "upstreams": len(core.config.upstreams)}
    ok = bool(core.config.upstreams) and not core.draining
    if core.draining:
        checks["draining"] = True
    if core.backends is not None:
        checks.update(core.backends.readiness())
        ok = ok and core.backends.ready()
    elif core.registry is not None:
        checks["sqlite"] = "ok" if core.registry.ping() else "unavailable"
        ok = ok and checks["sqlite"] == "ok"
    if core.store_error is not None:
        checks["store_error"] = core.store_error
    down = sorted(k for k, v in checks.items() if k in BACKENDS and v != "ok")
    if down:
        checks["down"] = down
    return ok, checks


BACKENDS = ("sqlite", "postgres", "redis")


def store_state(core: _Core) -> dict[str, bool]:
    """Each store backend up (True) or down, probed now: the `mcpwarden_store_up` gauge."""
    if core.backends is not None:
        checks = core.backends.readiness()
    elif core.registry is not None:
        checks = {"sqlite": "ok" if core.registry.ping() else "unavailable"}
    else:
        return {}
    return {k: v == "ok" for k, v in checks.items() if k in BACKENDS}


def unknown_session(
    registry: SessionRegistry | ReplicaSessionRegistry | None, replica_id: str, sid: str
) -> HttpRejection:
    """404 for a session this replica does not hold, naming its owner when another has it.

    Sessions stick to the replica that minted them (docs/replicas.md): a load balancer
    without affinity on Mcp-Session-Id sends strays here, and the answer says so.
    """
    owner = None
    if registry is not None:
        with contextlib.suppress(StoreUnavailable):
            owner = registry.owner_of(sid)
    if owner is None or owner[0] == replica_id:
        return HttpRejection(404, "session.unknown", "unknown or expired session")
    replica, url, alive = owner
    if not alive:
        return HttpRejection(
            404,
            "session.owner_gone",
            f"the replica that held this session ({replica}) is gone; start a new session with initialize",
        )
    where = f" at {url}" if url else ""
    return HttpRejection(
        404,
        "session.other_replica",
        f"this session belongs to replica {replica}{where}, not {replica_id}: route every request "
        "carrying this Mcp-Session-Id to the replica that created it (load-balancer affinity)",
        headers={"mcpwarden-session-owner": replica},
    )
