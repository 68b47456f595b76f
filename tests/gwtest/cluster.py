"""Two (or more) gateway replicas on PostgreSQL + Redis behind the project's balancer.

Every cluster gets a scratch PostgreSQL schema and Redis key prefix, real `mcpwarden serve`
processes (one audit file each) and a real balancer process, all on free loopback ports.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gwtest.procs import PYTHON, ROOT, free_port, stop, wait_http
from gwtest.services import (
    POSTGRES_URL,
    REDIS_URL,
    postgres_or_skip,
    redis_or_skip,
    scratch_prefix,
    scratch_schema,
)


@dataclass
class Replica:
    id: str
    base: str
    config_path: Path
    audit_path: Path
    log_path: Path
    proc: subprocess.Popen[bytes]
    # With `operations=True`: this replica's admin API and metrics listeners.
    admin_base: str = ""
    metrics_base: str = ""
    admin_token: str = ""

    def url(self, upstream: str | None = None) -> str:
        return f"{self.base}/servers/{upstream}/mcp" if upstream else f"{self.base}/mcp"

    def audit(self) -> list[dict[str, Any]]:
        import orjson

        if not self.audit_path.exists():
            return []
        return [orjson.loads(line) for line in self.audit_path.read_bytes().splitlines() if line.strip()]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `mcpwarden ARGS -c <this replica's config>`: an operator acting through it."""
        return subprocess.run(
            [PYTHON, "-m", "mcpwarden", *args, "-c", str(self.config_path)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=self.config_path.parent,
        )


@dataclass
class Cluster:
    workdir: Path
    store: dict[str, Any]
    replicas: list[Replica] = field(default_factory=list)
    balancer: str = ""
    balancer_proc: subprocess.Popen[bytes] | None = None

    def url(self, upstream: str | None = None) -> str:
        return f"{self.balancer}/servers/{upstream}/mcp" if upstream else f"{self.balancer}/mcp"


def store_section(schema: str, prefix: str, **extra: Any) -> dict[str, Any]:
    return {
        "backend": "postgres",
        "url": POSTGRES_URL,
        "schema_name": schema,
        "redis_url": REDIS_URL,
        "redis_prefix": prefix,
        **extra,
    }


ADMIN_TOKEN = "test-admin-token-0123456789"


@contextlib.contextmanager
def start_replica(
    workdir: Path,
    replica_id: str,
    config: dict[str, Any],
    stack: contextlib.ExitStack,
    *,
    operations: bool = False,
) -> Iterator[Replica]:
    port = free_port()
    rdir = workdir / replica_id
    rdir.mkdir(parents=True, exist_ok=True)
    cfg = {
        **config,
        "replica": {"id": replica_id, "url": f"http://127.0.0.1:{port}"},
        "audit": {"path": str(rdir / "audit.jsonl"), "fsync": "never"},
    }
    admin_base = metrics_base = ""
    if operations:
        token_file = rdir / "admin-token"
        token_file.write_text(ADMIN_TOKEN)
        admin_port, metrics_port = free_port(), free_port()
        cfg["admin"] = {"listen": f"127.0.0.1:{admin_port}", "token": f"file:{token_file}"}
        cfg["metrics"] = {"listen": f"127.0.0.1:{metrics_port}"}
        admin_base, metrics_base = f"http://127.0.0.1:{admin_port}", f"http://127.0.0.1:{metrics_port}"
    cfg_path = rdir / "gateway.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    log_path = rdir / "gateway.log"
    log = stack.enter_context(log_path.open("wb"))
    proc = subprocess.Popen(
        [PYTHON, "-m", "mcpwarden", "serve", "-c", str(cfg_path), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=rdir,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60, proc=proc)
        if operations:
            wait_http(f"{metrics_base}/metrics", timeout=60, proc=proc)
            wait_http(f"{admin_base}/v1/nothing", timeout=60, proc=proc)
        yield Replica(
            replica_id,
            f"http://127.0.0.1:{port}",
            cfg_path,
            rdir / "audit.jsonl",
            log_path,
            proc,
            admin_base=admin_base,
            metrics_base=metrics_base,
            admin_token=ADMIN_TOKEN if operations else "",
        )
    finally:
        stop(proc)


def start_balancer(backends: list[str], stack: contextlib.ExitStack) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    proc = subprocess.Popen(
        [PYTHON, "-m", "mcpwarden.replicas.balancer", "--listen", f"127.0.0.1:{port}", *backends],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=ROOT,
    )
    stack.callback(stop, proc)
    wait_http(f"http://127.0.0.1:{port}/lb/healthz", proc=proc)
    return f"http://127.0.0.1:{port}", proc


@contextlib.contextmanager
def cluster(
    upstreams: dict[str, Any],
    *,
    replicas: int = 2,
    store: dict[str, Any] | None = None,
    operations: bool = False,
    **config: Any,
) -> Iterator[Cluster]:
    """Replicas `a`, `b`, ... on one scratch schema/prefix, behind a balancer.

    `operations`: each replica also serves its admin API and metrics on ports of its own.
    """
    postgres_or_skip()
    redis_or_skip()
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mcpw-replicas-")))
        if store is None:
            schema = stack.enter_context(scratch_schema())
            prefix = stack.enter_context(scratch_prefix())
            store = store_section(schema, prefix)
        base = {"upstreams": upstreams, "store": store, **config}
        c = Cluster(workdir, store)
        for i in range(replicas):
            c.replicas.append(
                stack.enter_context(
                    start_replica(workdir, "ab"[i] if i < 2 else f"r{i}", base, stack, operations=operations)
                )
            )
        c.balancer, c.balancer_proc = start_balancer([r.base for r in c.replicas], stack)
        yield c


def until(predicate: Any, deadline_s: float, step: float = 0.02) -> float:
    """Seconds from now to the start of the first check of `predicate()` that held.

    What counts is when a check *started*: on a loaded machine one round trip through the
    gateway can take longer than the deadline itself, and the state a check sees is the
    state when its request arrived. Fails when no check started within `deadline_s` held.
    """
    t0 = time.monotonic()
    while True:
        started = time.monotonic() - t0
        if started > deadline_s:
            raise AssertionError(f"not within {deadline_s}s")
        if predicate():
            return started
        time.sleep(step)
