"""Two (or more) gateway replicas on PostgreSQL + Redis behind the project's balancer.

Every cluster gets a scratch PostgreSQL schema and Redis key prefix, real `mcpwarden serve`
processes (one audit file each) and a real balancer process, all on free loopback ports.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
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


@contextlib.contextmanager
def start_replica(
    workdir: Path, replica_id: str, config: dict[str, Any], stack: contextlib.ExitStack
) -> Iterator[Replica]:
    port = free_port()
    rdir = workdir / replica_id
    rdir.mkdir(parents=True, exist_ok=True)
    cfg = {
        **config,
        "replica": {"id": replica_id, "url": f"http://127.0.0.1:{port}"},
        "audit": {"path": str(rdir / "audit.jsonl"), "fsync": "never"},
    }
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
        yield Replica(replica_id, f"http://127.0.0.1:{port}", cfg_path, rdir / "audit.jsonl", log_path, proc)
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
    upstreams: dict[str, Any], *, replicas: int = 2, store: dict[str, Any] | None = None, **config: Any
) -> Iterator[Cluster]:
    """Replicas `a`, `b`, ... on one scratch schema/prefix, behind a balancer."""
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
                stack.enter_context(start_replica(workdir, "ab"[i] if i < 2 else f"r{i}", base, stack))
            )
        c.balancer, c.balancer_proc = start_balancer([r.base for r in c.replicas], stack)
        yield c
