"""Wiring the operations layer onto a running gateway: metrics, alerts, counters, admin API.

`mcpwarden serve` builds one `Operations` beside the `GatewayCore`; each part observes the
audit stream through the core's `AuditFanout` and each listener (metrics, admin API) runs
on its own port, so none of it is reachable through an MCP endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from mcpwarden.admin.anomaly import AnomalyDetector
from mcpwarden.admin.counters import SessionCounters, open_counters_table
from mcpwarden.audit.sinks.fanout import AuditFanout
from mcpwarden.audit.sinks.queue import QueuedSink
from mcpwarden.audit.sinks.worker import SinkProcess
from mcpwarden.config import GatewayConfig
from mcpwarden.gateway.core import GatewayCore

if TYPE_CHECKING:
    from mcpwarden.admin.metrics import GatewayMetrics

log = logging.getLogger("mcpwarden.admin")
PUBLISH_INTERVAL_S = 1.0


class Operations:
    def __init__(self, core: GatewayCore, config: GatewayConfig) -> None:
        self.core = core
        self.config = config
        fanout = core.audit
        if not isinstance(fanout, AuditFanout):
            raise TypeError("the operations layer needs the gateway's AuditFanout")
        self.fanout = fanout
        self.counters = SessionCounters()
        fanout.add_observer(self.counters.observe)
        self.metrics: GatewayMetrics | None = None
        if config.metrics is not None:
            # prometheus-client is imported only when metrics are on.
            from mcpwarden.admin.metrics import GatewayMetrics, count_held, count_held_definitions
            from mcpwarden.gateway.replication import store_state

            store = config.store.path
            backends = core.backends
            self.metrics = GatewayMetrics(
                live_sessions=lambda: len(core.sessions),
                quarantined=(
                    (lambda: count_held(backends.store))
                    if backends is not None and backends.shared
                    else (lambda: count_held_definitions(store))
                ),
                sinks=self._sinks,
                store_state=lambda: store_state(core),
            )
            fanout.add_observer(self.metrics.observe)
            core.pipeline.instruments.guard_timer = self.metrics.observe_guard
        self.anomaly: AnomalyDetector | None = None
        if config.alerts is not None:
            self.anomaly = AnomalyDetector(config.alerts, core.audit_event)
            fanout.add_observer(self.anomaly.observe)
        self.metrics_port: int | None = None
        self.admin_port: int | None = None
        self._admin_server: Any = None
        self._tasks: list[asyncio.Task[Any]] = []

    def _sinks(self) -> list[QueuedSink]:
        out: list[QueuedSink] = list(self.fanout.sinks)
        if self.fanout.dispatcher is not None:
            out.append(self.fanout.dispatcher)
        forward = self.fanout.forward
        if isinstance(forward, SinkProcess):
            out += forward.sinks()  # its own queue and the child's sinks, as the child reports them
        return out

    async def start(self) -> None:
        """Open the listeners; a port that cannot be bound stops the gateway (fail closed)."""
        if self.metrics is not None and self.config.metrics is not None:
            host, port = self.config.metrics.address()
            self.metrics_port = self.metrics.serve(host, port)
        self._tasks.append(asyncio.create_task(self._publish(), name="session-counters"))
        if self.config.admin is not None:
            await self._start_admin()

    async def _start_admin(self) -> None:
        import uvicorn

        from mcpwarden.admin.api import build_admin_app

        assert self.config.admin is not None
        killswitch = self.core.admission.killswitch
        if killswitch is None:
            raise RuntimeError("the admin API needs the store-backed kill switch (enable_registry)")
        consents = None
        if self.config.authorization_server is not None:
            from mcpwarden.authserver.service import open_oauth_store

            backends = self.core.backends
            consents = open_oauth_store(self.config, backends.pool if backends is not None else None)
        app = build_admin_app(
            self.core, killswitch, self.counters, self.config.admin.token, consents=consents
        )
        host, port = self.config.admin.address()
        server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
        )
        # The main server owns SIGINT/SIGTERM; this one is stopped by `stop`.
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        task = asyncio.create_task(server.serve(), name="admin-api")
        while not server.started and not task.done():
            await asyncio.sleep(0.02)
        if task.done():
            task.result()
            raise RuntimeError(f"admin API could not listen on {host}:{port}")
        self._admin_server = server
        self.admin_port = int(server.servers[0].sockets[0].getsockname()[1])
        self._tasks.append(task)

    async def _publish(self) -> None:
        backends = self.core.backends
        if backends is not None and backends.redis is not None:
            await self._publish_shared(backends.redis)
            return
        conn = await asyncio.to_thread(open_counters_table, self.config.store.path)
        try:
            while True:
                await asyncio.sleep(PUBLISH_INTERVAL_S)
                try:
                    await asyncio.to_thread(self.counters.publish, conn)
                except Exception:
                    log.exception("cannot publish session counters to the store")
        finally:
            conn.close()

    async def _publish_shared(self, client: Any) -> None:
        """Replicas: each publishes its counters to its own Redis hash (admin.counters_redis)."""
        from mcpwarden.admin.counters_redis import publish_counters
        from mcpwarden.store.base import StoreUnavailable

        prefix, replica = self.config.store.redis_prefix, self.core.replica_id
        full = True
        while True:
            await asyncio.sleep(PUBLISH_INTERVAL_S)
            try:
                await asyncio.to_thread(publish_counters, self.counters, client, prefix, replica, full=full)
                full = False
            except StoreUnavailable as exc:
                if not full:
                    log.warning("%s", exc)
                full = True

    async def stop(self) -> None:
        if self._admin_server is not None:
            self._admin_server.should_exit = True
        for task in self._tasks:
            if task.get_name() != "admin-api":
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.metrics is not None:
            self.metrics.close()
