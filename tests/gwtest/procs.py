"""Start and stop real processes for integration tests: SDK servers and the gateway CLI."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import yaml

from gwtest.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
FEATURES_SERVER = FIXTURES / "features_server.py"
PYTHON = sys.executable


def wait_http(url: str, timeout: float = 20.0, proc: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} came up")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not come up within {timeout}s")


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@contextlib.contextmanager
def http_server(script: Path = FEATURES_SERVER, *args: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run an SDK server over Streamable HTTP; yields (its /mcp URL, process)."""
    port = free_port()
    proc = subprocess.Popen(
        [PYTHON, str(script), "--transport", "http", "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/mcp", proc=proc)
        yield f"http://127.0.0.1:{port}/mcp", proc
    finally:
        stop(proc)


def stdio_upstream(name: str = "feat", **extra: Any) -> dict[str, Any]:
    """A stdio upstream running the features server. Content defense is off unless a test
    asks for it, since relay tests compare results byte for byte (spotlighting wraps text)."""
    return {
        "transport": "stdio",
        "command": PYTHON,
        "args": [str(FEATURES_SERVER), "--name", name],
        "content": "off",
        **extra,
    }


def http_upstream(url: str, **extra: Any) -> dict[str, Any]:
    """An HTTP upstream; content defense off by default, as for `stdio_upstream`. Test servers
    listen on 127.0.0.1, which the egress policy refuses unless the upstream allows it."""
    return {"transport": "http", "url": url, "content": "off", "allow_private": True, **extra}


@dataclass
class Gateway:
    base: str
    proc: subprocess.Popen[bytes]
    audit_path: Path
    log_path: Path

    def url(self, upstream: str | None = None) -> str:
        return f"{self.base}/servers/{upstream}/mcp" if upstream else f"{self.base}/mcp"

    def audit(self) -> list[dict[str, Any]]:
        import orjson

        if not self.audit_path.exists():
            return []
        return [orjson.loads(line) for line in self.audit_path.read_bytes().splitlines() if line.strip()]


def prepare_serve(
    stack: contextlib.ExitStack, config: dict[str, Any], workdir: Path | None, prefix: str
) -> tuple[Path, dict[str, Any], Path, Path, IO[bytes]]:
    """A work dir (temporary unless given), the config with an audit file and a store inside it
    unless it names its own, written there, and an open log file:
    (workdir, config, config path, log path, log handle)."""
    if workdir is None:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix)))
    config = dict(config)
    config.setdefault("audit", {"path": str(workdir / "audit.jsonl"), "fsync": "never"})
    config.setdefault("store", {"path": str(workdir / "store.sqlite3")})
    cfg_path = workdir / "gateway.yaml"
    cfg_path.write_text(yaml.safe_dump(config))
    log_path = workdir / "gateway.log"
    return workdir, config, cfg_path, log_path, stack.enter_context(open(log_path, "wb"))


@contextlib.contextmanager
def gateway(
    config: dict[str, Any],
    *,
    workdir: Path | None = None,
    preexec_fn: Callable[[], None] | None = None,
    start_timeout: float = 20.0,
    port: int | None = None,
) -> Iterator[Gateway]:
    """Run `mcpwarden serve` as a real process with the given config (dict).

    `preexec_fn` runs in the child before exec (resource limits, signal dispositions).
    """
    with contextlib.ExitStack() as stack:
        workdir, config, cfg_path, log_path, log = prepare_serve(stack, config, workdir, "mcpw-gw-")
        port = port or free_port()
        proc = subprocess.Popen(
            [PYTHON, "-m", "mcpwarden", "serve", "-c", str(cfg_path), "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=workdir,
            preexec_fn=preexec_fn,
        )
        stack.callback(stop, proc)
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/healthz", timeout=start_timeout, proc=proc)
        audit = config["audit"].get("path") if isinstance(config.get("audit"), dict) else None
        yield Gateway(base, proc, Path(audit) if audit else workdir / "audit.jsonl", log_path)


def wait_for_request_start(gw: Gateway, session: str, request_id: Any, timeout: float = 30.0) -> None:
    """Block until the gateway has audited the request as started: it writes that record before
    forwarding, so the call is then in flight. Tests that act on an in-flight call (cancel it,
    reuse its id) wait for this instead of sleeping, which races the call on a loaded machine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for r in gw.audit():
            if (
                r.get("event") == "request.start"
                and r.get("session") == session
                and r.get("request_id") == request_id
            ):
                return
        time.sleep(0.05)
    raise TimeoutError(f"request {request_id!r} of session {session} did not start within {timeout}s")


_SID = re.compile(r"^[\x21-\x7e]+$")


def is_visible_ascii(value: str) -> bool:
    return bool(_SID.match(value))
