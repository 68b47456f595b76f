"""`mcpwarden serve --workers N` as a real process tree, for the worker tests.

Which worker accepts a TCP connection is up to the kernel, and on a loaded machine one worker
can win every accept for minutes (the epoll wake-up order favours the worker that ran last).
So a test that needs a given worker never hopes for it: it speaks to that worker's private
unix socket (the one siblings relay through; read from the worker's environment), where the
same app answers. A session is minted where the test says (`session_on`), and a request
"reaching the other worker" is sent to the other worker's socket (`on_worker`), which relays
it to the owner exactly as it does a TCP request. Requests that may land anywhere still go
through the shared TCP port (`fresh_call`). Every wait polls against a generous deadline;
none sleeps and hopes.
"""

from __future__ import annotations

import contextlib
import socket
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
from mcpwarden.workers.identity import ENV, socket_path

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

    def on_worker(self, index: int, timeout: float = 30.0) -> httpx.Client:
        """A client whose every request reaches worker `index` (its private socket), whatever
        URL it names: pass the gateway's URLs as usual."""
        return worker_client(self.proc.pid, index, timeout)


def worker_socket(supervisor_pid: int, index: int) -> Path | None:
    """Worker `index`'s private unix socket, found through a live worker's environment
    (`MCPWARDEN_WORKER` names the supervisor's run directory); None before any worker runs."""
    children = Path(f"/proc/{supervisor_pid}/task/{supervisor_pid}/children")
    with contextlib.suppress(OSError):
        for pid in children.read_text().split():
            with contextlib.suppress(OSError):
                for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                    if item.startswith(f"{ENV}=".encode()):
                        run_dir = item.split(b"=", 1)[1].decode().split("/", 4)[4]
                        return socket_path(Path(run_dir), index)
    return None


def worker_client(supervisor_pid: int, index: int, timeout: float = 30.0) -> httpx.Client:
    """A client connected to worker `index` alone, once its socket accepts (a worker being
    restarted rebinds it): the URL's host still goes out as the Host header, as over TCP."""

    def ready() -> Path | None:
        path = worker_socket(supervisor_pid, index)
        if path is None:
            return None
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            return None
        finally:
            probe.close()
        return path

    path = until(ready, f"worker w{index}'s socket to accept")
    return httpx.Client(transport=httpx.HTTPTransport(uds=str(path)), timeout=timeout)


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


def session_on(gw: WorkerGateway, url: str, index: int) -> str:
    """A new session minted by worker `index` (opened on its socket); returns its id."""
    with gw.on_worker(index) as client:
        sid = open_session(client, url)
    assert sid.endswith(f".w{index}"), sid
    return sid


def fresh_call(
    url: str, sid: str, tool: str, arguments: dict[str, Any], id_: int = 1, via: httpx.Client | None = None
) -> httpx.Response:
    """One `tools/call` on a new TCP connection, where it may land on either worker; or `via` a
    client of one worker's socket (`WorkerGateway.on_worker`)."""
    body = {
        "jsonrpc": "2.0",
        "id": id_,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    headers = {"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}
    if via is not None:
        return post(via, url, body, **headers)
    with httpx.Client(timeout=30) as client:
        return post(client, url, body, **headers)


def result_text(resp: httpx.Response) -> str:
    assert resp.status_code == 200, resp.text
    return str(body_of(resp)["result"]["content"][0]["text"])
