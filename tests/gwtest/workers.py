"""`mcpwarden serve --workers N` as a real process tree, for the worker tests.

Which worker accepts a connection is up to the kernel, so the tests never assume one: they
open sessions until each worker has minted one (ids end in `.w<i>`) and send requests on
fresh connections until some were answered through a sibling (`mcpwarden-relayed-by`).
Every wait polls against a generous deadline; none sleeps and hopes.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from gwtest.procs import PYTHON, free_port, prepare_serve, stop
from gwtest.raw import body_of, open_session, post

DEADLINE_S = 90.0


@dataclass
class WorkerGateway:
    base: str
    proc: subprocess.Popen[bytes]
    workdir: Path
    log_path: Path
    count: int
    config_path: Path

    def url(self, upstream: str | None = None) -> str:
        return f"{self.base}/servers/{upstream}/mcp" if upstream else f"{self.base}/mcp"

    def audit_path(self, index: int) -> Path:
        return self.workdir / f"audit.w{index}.jsonl"

    def audit(self, index: int) -> list[dict[str, Any]]:
        path = self.audit_path(index)
        if not path.exists():
            return []
        return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]

    def worker_pids(self) -> list[int]:
        """The supervisor's live children (the workers)."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        with contextlib.suppress(OSError):
            return [int(p) for p in children.read_text().split()]
        return []

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def until(predicate: Callable[[], Any], what: str, deadline_s: float = DEADLINE_S, step: float = 0.05) -> Any:
    """Poll `predicate` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {deadline_s:g} s waiting for {what}")
        time.sleep(step)


def wait_banner(gw: WorkerGateway, deadline_s: float = DEADLINE_S) -> None:
    """The supervisor prints its address once every worker accepts connections."""

    def up() -> bool:
        if gw.proc.poll() is not None:
            raise AssertionError(f"serve exited with {gw.proc.returncode}:\n{gw.log()}")
        return f"({gw.count} workers)" in gw.log()

    until(up, f"{gw.count} workers to be ready", deadline_s)


@contextlib.contextmanager
def worker_gateway(
    config: dict[str, Any], *, workers: int = 2, workdir: Path | None = None, wait: bool = True
) -> Iterator[WorkerGateway]:
    with contextlib.ExitStack() as stack:
        workdir, _, cfg_path, log_path, log = prepare_serve(stack, config, workdir, "mcpw-workers-")
        port = free_port()
        command = [PYTHON, "-m", "mcpwarden", "serve", "-c", str(cfg_path), "--port", str(port)]
        proc = subprocess.Popen(
            [*command, "--workers", str(workers)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=workdir,
        )
        stack.callback(stop, proc)
        gw = WorkerGateway(f"http://127.0.0.1:{port}", proc, workdir, log_path, workers, cfg_path)
        if wait:
            wait_banner(gw)
        yield gw


def session_on(url: str, index: int) -> str:
    """Open sessions (each on a new connection) until worker `index` mints one; returns its id.
    The others are deleted again (sessions per principal, and stdio children, are capped)."""

    def attempt() -> str | None:
        with httpx.Client(timeout=30) as client:
            sid = open_session(client, url)
            if sid.endswith(f".w{index}"):
                return sid
            # Not kept: end it, or its upstream (a stdio child each) outlives the test.
            client.delete(url, headers={"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"})
        return None

    return str(until(attempt, f"a session minted by worker w{index}", step=0.0))


def fresh_call(url: str, sid: str, tool: str, arguments: dict[str, Any], id_: int = 1) -> httpx.Response:
    """One `tools/call` on a new TCP connection: it may land on either worker."""
    body = {
        "jsonrpc": "2.0",
        "id": id_,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    with httpx.Client(timeout=30) as client:
        return post(client, url, body, **{"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"})


def result_text(resp: httpx.Response) -> str:
    assert resp.status_code == 200, resp.text
    return str(body_of(resp)["result"]["content"][0]["text"])
