"""What a worker process of `serve --workers N` does differently from a lone gateway.

It serves the supervisor's listening socket (inherited) and its own private unix socket
(requests relayed from sibling workers), tags the sessions it mints, keeps its own audit
chain, and tells the supervisor once it accepts connections. Only worker 0 binds its audit
chain to the SQLite pin store (`audit.binding`): the binding records one chain in the store,
and N chains claiming it would raise each other's alarms; the other workers still watch
their own audit file for deletion or replacement, as a gateway without the binding does.
"""

from __future__ import annotations

import contextlib
import os
import socket
from typing import TYPE_CHECKING

from mcpwarden.workers.identity import WorkerSlot

if TYPE_CHECKING:
    from mcpwarden.gateway.core import GatewayCore

UNIX_BACKLOG = 512


def prepare_core(core: GatewayCore, slot: WorkerSlot) -> None:
    """Session tags, the worker's place in `gateway.start`, shared rate buckets, and the
    integrity binding in w0 only."""
    core.session_suffix = slot.session_suffix
    core.worker = {"worker": slot.index, "workers": slot.count}
    if core.config.limits is not None and core.backends is None:
        # One bucket per limit for all workers, in the SQLite file they share (with Redis,
        # the replicas' shared buckets are already in place).
        from mcpwarden.admin.ratelimit_sqlite import SQLiteTokenBuckets

        core.admission.limiter = SQLiteTokenBuckets(core.config.store.path)
    if slot.index != 0 and core.integrity is not None:
        from mcpwarden.audit.watch import AuditFileWatch

        monitor, core.integrity = core.integrity, None
        with contextlib.suppress(Exception):
            monitor.store.close()
        core.audit_watch = AuditFileWatch(monitor.audit)


def sockets(slot: WorkerSlot) -> list[socket.socket]:
    """The shared TCP listener first (its port is the gateway's), then this worker's unix socket."""
    shared = socket.socket(fileno=slot.listen_fd)
    path = slot.socket_path()
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # left by this worker's previous process
    private = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    private.bind(str(path))
    private.listen(UNIX_BACKLOG)
    return [shared, private]


def signal_ready(slot: WorkerSlot) -> None:
    """Tell the supervisor this worker accepts connections (`<index>:<pid>` on its pipe)."""
    with contextlib.suppress(OSError):
        os.write(slot.ready_fd, f"{slot.index}:{os.getpid()}\n".encode())
    with contextlib.suppress(OSError):
        os.close(slot.ready_fd)
