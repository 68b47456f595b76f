"""Who a worker process is among `serve --workers N`, and what that changes in its config.

The supervisor tells each worker its place through the environment (one variable, so a
worker cannot be half-configured), and the worker derives everything per-worker from it:

- its replica id, `<base>-w<i>`: stable across restarts of that worker, so its audit chain
  keeps one id, and distinct from its siblings', so the replica machinery (session owner in
  Redis, presence, counters, `audit verify` of a set) treats each worker as one replica;
- its own audit file, `audit.w<i>.jsonl` beside the configured one: one hash chain per worker,
  since two processes appending to one chain would interleave and break it;
- its metrics and admin ports, the configured port plus `i` (0 stays 0: ephemeral);
- the suffix `.w<i>` on every session id it mints, which is how any worker tells, from the
  `Mcp-Session-Id` header alone, which worker holds a session (see `workers.forward`).
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcpwarden.config import GatewayConfig

ENV = "MCPWARDEN_WORKER"  # "<index>/<count>/<listen fd>/<ready fd>/<run dir>"
_SUFFIX = re.compile(r"\.w([0-9]{1,3})$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True, slots=True)
class WorkerSlot:
    """One worker's place: index among count, the shared listening socket, the private dir."""

    index: int
    count: int
    listen_fd: int
    ready_fd: int
    run_dir: Path

    def encode(self) -> str:
        return f"{self.index}/{self.count}/{self.listen_fd}/{self.ready_fd}/{self.run_dir}"

    @classmethod
    def from_env(cls) -> WorkerSlot | None:
        raw = os.environ.get(ENV)
        if not raw:
            return None
        index, count, listen_fd, ready_fd, run_dir = raw.split("/", 4)
        return cls(int(index), int(count), int(listen_fd), int(ready_fd), Path(run_dir))

    @property
    def session_suffix(self) -> str:
        return f".w{self.index}"

    def socket_path(self, index: int | None = None) -> Path:
        """The private unix socket worker `index` (default: this one) serves forwarded requests on."""
        return socket_path(self.run_dir, self.index if index is None else index)

    def apply(self, config: GatewayConfig) -> None:
        """Make `config` this worker's: replica id, audit file, metrics and admin ports."""
        config.replica.id = worker_replica_id(config.replica.id, self.index)
        if config.audit.path:
            config.audit.path = str(worker_audit_path(config.audit.path, self.index))
        if config.metrics is not None:
            config.metrics.listen = shift_port(config.metrics.listen, self.index)
        if config.admin is not None:
            config.admin.listen = shift_port(config.admin.listen, self.index)


def socket_path(run_dir: Path, index: int) -> Path:
    return run_dir / f"w{index}.sock"


def worker_replica_id(base: str | None, index: int) -> str:
    """`<replica id or host name>-w<i>`: no pid in it, so a restarted worker keeps its chain's id."""
    stem = base or _UNSAFE.sub("-", socket.gethostname())[:58] or "gateway"
    return f"{stem}-w{index}"


def worker_audit_path(path: str, index: int) -> Path:
    """`audit.jsonl` -> `audit.w0.jsonl`: each worker's chain in its own file beside the configured one."""
    p = Path(path)
    return p.with_name(f"{p.stem}.w{index}{p.suffix}")


def shift_port(listen: str, index: int) -> str:
    """`host:port` with the port raised by `index`; port 0 (pick one) stays 0."""
    host, _, port = listen.rpartition(":")
    number = int(port)
    return listen if number == 0 else f"{host}:{number + index}"


def owner_of(session_id: str) -> int | None:
    """The index of the worker that minted `session_id`, from its suffix (None: untagged)."""
    match = _SUFFIX.search(session_id)
    return int(match.group(1)) if match else None
