"""The gateway's shared state: config, guard pipeline, audit, upstream HTTP client, sessions.

Both fronts (Streamable HTTP in `front`, stdio in `wrap`) drive sessions through this
object, so the pipeline and audit are the same whichever way a client connects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mcpwarden.admin.admission import Admission
from mcpwarden.audit import AuditLog
from mcpwarden.audit.binding import IntegrityMonitor
from mcpwarden.audit.checkpoint import Checkpointer, load_private_key, startup_check
from mcpwarden.audit.sinks.factory import build_sinks
from mcpwarden.audit.sinks.fanout import AuditFanout
from mcpwarden.audit.watch import AuditFileWatch
from mcpwarden.auth.secrets import resolve_secret
from mcpwarden.auth.upstream import UpstreamAuth, build_upstream_auth
from mcpwarden.config import GatewayConfig, HttpUpstream
from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.core_audit import AuditMethods
from mcpwarden.gateway.pipeline import AuditWriter, Pipeline
from mcpwarden.gateway.quota import InFlightQuota
from mcpwarden.gateway.quotas import Quotas
from mcpwarden.gateway.session import Session
from mcpwarden.gateway.session_registry import SessionRegistry, new_session_id, session_handle
from mcpwarden.gateway.shared_stdio import SharedStdio
from mcpwarden.gateway.upstream.pools import UpstreamPools
from mcpwarden.guards.base import Guard
from mcpwarden.store.base import StoreUnavailable
from mcpwarden.types import Principal

if TYPE_CHECKING:
    from mcpwarden.gateway.replica_registry import ReplicaSessionRegistry
    from mcpwarden.store.factory import Backends

log = logging.getLogger("mcpwarden.gateway")

SWEEP_INTERVAL_S = 15.0
REVOCATION_POLL_S = 1.0


class GatewayCore(AuditMethods):
    def __init__(
        self,
        config: GatewayConfig,
        guards: Sequence[Guard],
        *,
        audit: AuditWriter | None = None,
    ) -> None:
        self.config = config
        self.audit = audit
        self.pipeline = Pipeline(guards, audit)
        self.sessions: dict[str, Session] = {}
        self.quotas = Quotas(config.sessions)
        self.shared_stdio = SharedStdio()
        # Unanswered client requests per principal, over all its sessions (batch amplification).
        self.in_flight = InFlightQuota(config.sessions.max_in_flight_per_principal)
        self._http_client: UpstreamPools | None = None
        self._sweeper: asyncio.Task[None] | None = None
        # Base URL of endpoint resources (audiences, metadata); the front sets the bound port.
        self.public_base = config.public_base()
        # Each HTTP upstream's own credential provider, shared by all sessions so caches are.
        default_issuer = config.auth.issuer if config.auth else None
        self.upstream_auth: dict[str, UpstreamAuth] = {
            name: build_upstream_auth(up.credentials, default_issuer=default_issuer)
            for name, up in config.upstreams.items()
            if isinstance(up, HttpUpstream) and up.credentials.mode != "none"
        }
        # Set by the HTTP front (`serve`): lets `mcpwarden sessions` list and revoke.
        self.registry: SessionRegistry | ReplicaSessionRegistry | None = None
        # This process among several replicas: in every audit record and as session owner.
        self.replica_id = config.replica.resolved_id()
        self.backends: Backends | None = None
        # Why the shared store could not be used last time (None: fine), for /readyz.
        self.store_error: str | None = None
        # Set on SIGTERM (gateway.lifecycle): no new sessions, not ready, in-flight calls finish.
        self.draining = False
        # Under `serve --workers N`: appended to minted session ids (".w<i>") so any worker can
        # tell the owner, and this worker's place, recorded in `gateway.start` (workers.identity).
        self.session_suffix = ""
        self.worker: dict[str, int] | None = None
        self._handles: dict[str, str] = {}
        self._closing: set[asyncio.Task[None]] = set()
        # Cross-checks the pin store and the audit file (set by `from_config`).
        self.integrity: IntegrityMonitor | None = None
        # Kill switch, rate limits and concurrency caps, checked before any guard. The kill
        # switch joins when the store is shared (`enable_registry`).
        self.admission = Admission(config.limits, None, self.audit_event)
        self.checkpointer: Checkpointer | None = None
        # Starts a new audit file when the one being written is deleted or replaced (when
        # the pin-store binding, which does the same, is not on).
        self.audit_watch: AuditFileWatch | None = None

    @classmethod
    def from_config(cls, config: GatewayConfig, guards: Sequence[Guard] | None = None) -> GatewayCore:
        from mcpwarden.gateway.guards_setup import build_guards

        file = None
        checkpointer = None
        if config.audit.path:
            from pathlib import Path

            Path(config.audit.path).parent.mkdir(parents=True, exist_ok=True)
            if config.audit.checkpoint is not None:
                startup_check(config.audit.path, config.audit.checkpoint.on_audit_loss)
            file = AuditLog(
                config.audit.path,
                fsync=config.audit.fsync,
                include_raw_arguments=config.audit.include_raw_arguments,
                replica=config.replica.resolved_id(),
                rotation=config.audit.rotate.policy() if config.audit.rotate else None,
            )
            if config.audit.checkpoint is not None:
                checkpointer = Checkpointer(
                    file,
                    load_private_key(resolve_secret(config.audit.checkpoint.key)),
                    every=config.audit.checkpoint.every,
                )
        # Always a fan-out, even without sinks: metrics, alerts and checkpoints observe it.
        replica = config.replica.resolved_id()
        audit = AuditFanout(file, replica=replica, **_sinks(config, replica))
        core = cls(config, build_guards(config) if guards is None else guards, audit=audit)
        if config.tracing is not None:
            from mcpwarden.admin.tracing import build_tracing  # the OTel SDK only when tracing is on

            core.pipeline.instruments.tracing = build_tracing(config.tracing)
        # The audit/store integrity binding covers the SQLite file; a PostgreSQL store is
        # shared by replicas with one chain each, which that binding does not model.
        if (
            file is not None
            and config.store.backend == "sqlite"
            and any(up.pinning != "off" for up in config.upstreams.values())
        ):
            from mcpwarden.store import SQLiteStore

            core.integrity = IntegrityMonitor(file, SQLiteStore(config.store.path), write=audit.write)
        if file is not None and core.integrity is None:
            core.audit_watch = AuditFileWatch(file)
        if checkpointer is not None:
            checkpointer.alert = core.audit_event
            audit.add_observer(checkpointer.observe, on_close=checkpointer.close)
            core.checkpointer = checkpointer
            if config.audit.checkpoint is not None and config.audit.checkpoint.on_audit_loss == "refuse":
                core.admission.audit_lost = lambda: checkpointer.lost
        return core

    @property
    def http_client(self) -> UpstreamPools:
        """Each HTTP upstream's own bounded pools (requests and GET streams), made in the loop."""
        if self._http_client is None:
            self._http_client = UpstreamPools(self.config.upstreams)
        return self._http_client

    # ------------------------------------------------------------------ lifecycle

    def enable_registry(self) -> None:
        """Publish sessions in the store so a CLI beside the running gateway can revoke them."""
        if self.registry is None:
            self.registry = self._open_registry()
            self.registry.forget_dead_gateways()
        if self.admission.killswitch is None:
            self._open_admission_state()

    def _open_admission_state(self) -> None:
        """Kill switch and rate buckets where the registry's store is: replicas share them."""
        from mcpwarden.admin.killswitch_open import open_killswitch

        self.admission.killswitch = open_killswitch(self.config.store, self.backends)
        if self.backends is not None and self.backends.redis is not None:
            from mcpwarden.admin.ratelimit_redis import RedisTokenBuckets

            self.admission.limiter = RedisTokenBuckets(self.backends.redis, self.config.store.redis_prefix)

    def _open_registry(self) -> SessionRegistry | ReplicaSessionRegistry:
        from mcpwarden.gateway.replication import open_registry

        registry, self.backends = open_registry(self.config, self.replica_id)
        return registry

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Whether this replica should get traffic, and why not: what `/readyz` answers."""
        from mcpwarden.gateway.replication import readiness

        return readiness(self)

    async def start(self) -> None:
        start = getattr(self.audit, "start", None)
        if callable(start):
            start()
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep(), name="session-sweeper")
        self.audit_event(
            "gateway.start", details={"upstreams": sorted(self.config.upstreams), **(self.worker or {})}
        )
        if self.integrity is not None:
            self.integrity.check_at_start()

    async def drain(self, deadline_s: float) -> None:
        """Let the calls in flight finish within `deadline_s`, answer the rest with a JSON-RPC
        error and end the GET streams (graceful stop: SIGTERM, Ctrl-C; the HTTP server has
        stopped accepting connections by then). Sessions are closed afterwards by `stop`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + deadline_s
        while loop.time() < deadline and any(s.calls.channels for s in self.sessions.values()):
            await asyncio.sleep(0.05)
        for session in list(self.sessions.values()):
            for client_id in session.calls.fail_all(_shutdown_error):
                self.audit_event(
                    "error", session=session.id, principal=session.principal.key, reason="gateway.shutdown",
                    message=f"request {client_id!r} unfinished after the {deadline_s:g} s drain deadline",
                )  # fmt: skip
            session.relay.end_streams()

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        await asyncio.gather(*(s.close("gateway stopping") for s in list(self.sessions.values())))
        self.sessions.clear()
        await self.shared_stdio.close()
        if self._http_client is not None:
            await self._http_client.close()
        await asyncio.gather(*(a.aclose() for a in self.upstream_auth.values()), return_exceptions=True)
        if self.registry is not None:
            with contextlib.suppress(StoreUnavailable):
                self.registry.forget_dead_gateways()
            self.registry.retire()
            self.registry.close()
            self.registry = None
        if self.backends is not None:
            self.backends.close()
            self.backends = None
        if self.admission.killswitch is not None:
            self.admission.killswitch.close()
            self.admission.killswitch = None
        self.audit_event("gateway.stop")
        if self.integrity is not None:
            self.integrity.store.close()
        close = getattr(self.audit, "close", None)
        if callable(close):
            close()
        if self.pipeline.instruments.tracing is not None:
            self.pipeline.instruments.tracing.close()

    async def _sweep(self) -> None:
        # Revocations are also polled here, so a revoked session that only holds a GET
        # stream open (and sends no requests) is still closed within a second.
        last_expiry = time.monotonic()
        frequent = any(
            x is not None for x in (self.registry, self.integrity, self.checkpointer, self.audit_watch)
        )
        while True:
            await asyncio.sleep(REVOCATION_POLL_S if frequent else SWEEP_INTERVAL_S)
            try:
                if self.registry is not None:
                    self.registry.heartbeat()
                self.check_revocations()
                self.check_kill_switch()
                self.store_error = None
            except StoreUnavailable as exc:
                # Requests fail closed on their own check; the sweeper keeps going and retries.
                if self.store_error is None:
                    log.warning("shared store unavailable: %s", exc)
                self.store_error = str(exc)
            if self.integrity is not None:
                try:
                    self.integrity.check_running()
                except Exception:  # a failed check must not stop the sweeper; it runs again
                    log.exception("integrity check failed")
            if self.audit_watch is not None:
                self.audit_watch.check()
            if self.checkpointer is not None:
                self.checkpointer.check_file()
            if time.monotonic() - last_expiry >= SWEEP_INTERVAL_S:
                last_expiry = time.monotonic()
                await self.expire_sessions()

    async def expire_sessions(self) -> int:
        now = time.monotonic()
        limits = self.config.sessions
        expired = [
            s
            for s in self.sessions.values()
            if now - s.last_seen > limits.idle_timeout_s or now - s.created > limits.max_age_s
        ]
        for s in expired:
            self._forget(s.id)
            await s.close("expired")
        return len(expired)

    def _forget(self, session_id: str) -> None:
        session = self.sessions.pop(session_id, None)
        if session is not None:
            self.quotas.session_ended(session.principal.key)
        if self.registry is not None and self._handles.pop(session_id, None) is not None:
            self.registry.remove(session_id)

    def check_revocations(self) -> None:
        """Close sessions revoked from the CLI (one pragma when nothing changed)."""
        if self.registry is None:
            return
        revoked = set(self.registry.revoked_since_last_poll())
        if not revoked:
            return
        for sid, handle in list(self._handles.items()):
            session = self.sessions.get(sid)
            if handle in revoked and session is not None:
                self._forget(sid)
                self.audit_event(
                    "session.revoked",
                    session=sid,
                    principal=session.principal.key,
                    reason="session.revoked",
                    message="session revoked by an operator",
                )
                task = asyncio.get_running_loop().create_task(session.close("revoked"))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)

    def check_kill_switch(self) -> None:
        """Close live sessions whose principal or session an operator disabled.

        Their next message is refused anyway; closing also ends idle GET streams and the
        session's upstream connections.
        """
        if self.admission.killswitch is None:
            return
        self.admission.refresh()
        if self.admission.killswitch.empty:
            return
        for sid, session in list(self.sessions.items()):
            hit = self.admission.disabled_for(sid, session.principal)
            if hit is None:
                continue
            self._forget(sid)
            self.audit_event(
                "session.killed",
                session=sid,
                principal=session.principal.key,
                reason=f"killswitch.{hit.kind}",
                message=f"session closed: {hit.kind} disabled by an operator",
            )
            task = asyncio.get_running_loop().create_task(session.close("killed"))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    # ------------------------------------------------------------------ sessions

    def create_session(
        self, principal: Principal, upstreams: list[str], *, aggregate: bool, transport: str = "http"
    ) -> Session:
        session = Session(
            self,
            new_session_id() + self.session_suffix,
            principal,
            upstreams,
            aggregate=aggregate,
            transport=transport,
        )
        self.sessions[session.id] = session
        self.quotas.session_started(principal.key)
        self.audit_event(
            "session.start",
            session=session.id,
            principal=principal.key,
            details={"upstreams": upstreams, "aggregate": aggregate},
        )
        return session

    def register_session(self, session: Session, endpoint: str) -> None:
        """Record a session in the store's sessions table (HTTP front only)."""
        if self.registry is not None:
            self.registry.add(session.id, session.principal, endpoint, session.upstream_names)
            self._handles[session.id] = session_handle(session.id)

    def find_session(self, session_id: str, principal: Principal) -> Session | None:
        """Look up a live session; another principal's session is reported as unknown."""
        self.check_revocations()
        session = self.sessions.get(session_id)
        if session is None or session.closed:
            return None
        now = time.monotonic()
        limits = self.config.sessions
        if now - session.last_seen > limits.idle_timeout_s or now - session.created > limits.max_age_s:
            self._forget(session_id)
            asyncio.get_running_loop().create_task(session.close("expired"))
            return None
        if session.principal.key != principal.key:
            self.audit_event(
                "alert",
                session=session_id,
                principal=principal.key,
                reason="session.principal_mismatch",
                message="session id presented by a different principal",
            )
            return None
        return session

    async def end_session(self, session: Session, reason: str = "deleted by client") -> None:
        self._forget(session.id)
        await session.close(reason)


def _shutdown_error(client_id: Any) -> dict[str, Any]:
    return jsonrpc.error(
        client_id,
        jsonrpc.UPSTREAM_UNAVAILABLE,
        "the gateway is shutting down; the request was not finished",
        reason="gateway.shutdown",
    )


def _sinks(config: GatewayConfig, replica: str | None) -> dict[str, Any]:
    """The audit sinks: in a child process (`audit.sink_process`, the default), or as threads."""
    if not config.audit.sinks:
        return {}
    if config.audit.sink_process:
        from mcpwarden.audit.sinks.worker import SinkProcess

        return {"forward": SinkProcess([c.model_dump() for c in config.audit.sinks], replica=replica)}
    return {"sinks": build_sinks(config.audit.sinks, replica=replica)}
