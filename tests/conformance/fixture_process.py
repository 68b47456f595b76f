"""Start MCP servers as child processes for tests: the conformance fixture, the demo server.

HTTP servers here bind port 0 and announce `LISTENING <url>` on stdout once they accept requests,
so tests never race for ports or poll: the URL arrives when the server is ready.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Literal

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_SCRIPT = REPO_ROOT / "tests" / "fixtures" / "conformance_server.py"
READY_PREFIX = "LISTENING "


class ServerStartError(RuntimeError):
    """The child exited or stayed silent instead of announcing its URL."""


def fixture_command(
    transport: Literal["stdio", "http"],
    *,
    port: int = 0,
    resumable: bool = True,
    era: Literal["handshake", "stateless"] = "handshake",
) -> list[str]:
    """argv that runs the conformance fixture, e.g. as a gateway's stdio upstream. `era="stateless"`
    runs it as a server that also serves 2026-07-28 (the default refuses that revision)."""
    argv = [sys.executable, str(FIXTURE_SCRIPT), "--transport", transport, "--era", era]
    if transport == "http":
        argv += ["--port", str(port)]
        if not resumable:
            argv.append("--no-event-store")
    return argv


def demo_command(
    transport: Literal["stdio", "http"], *, port: int = 0, sandbox: Path | None = None
) -> list[str]:
    """argv that runs the bundled demo server (`python -m mcpwarden.demo.server`)."""
    argv = [sys.executable, "-m", "mcpwarden.demo.server", "--transport", transport]
    if transport == "http":
        argv += ["--port", str(port)]
    if sandbox is not None:
        argv += ["--sandbox", str(sandbox)]
    return argv


@contextlib.contextmanager
def start_http_server(
    argv: Sequence[str], *, startup_timeout_s: float = 30.0, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run `argv` until the block ends; yield the URL it announces. Its stderr is kept in a temp file
    and quoted if it fails to start, since that is where the reason will be."""
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            list(argv),
            cwd=REPO_ROOT,
            env=env if env is not None else dict(os.environ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            yield _await_announcement(process, stderr, startup_timeout_s)
        finally:
            _stop(process)


@contextlib.contextmanager
def start_http_fixture(
    *,
    resumable: bool = True,
    startup_timeout_s: float = 30.0,
    era: Literal["handshake", "stateless"] = "handshake",
) -> Iterator[str]:
    """The conformance fixture over Streamable HTTP on a free loopback port; yields its /mcp URL."""
    with start_http_server(
        fixture_command("http", resumable=resumable, era=era), startup_timeout_s=startup_timeout_s
    ) as url:
        yield url


def _await_announcement(process: subprocess.Popen[str], stderr: IO[str], timeout_s: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServerStartError(
                    f"no {READY_PREFIX.strip()} line within {timeout_s:.0f} s{_tail(stderr)}"
                )
            if not selector.select(timeout=remaining):
                continue
            line = process.stdout.readline()
            if not line:
                process.wait(timeout=5)
                raise ServerStartError(f"server exited with code {process.returncode}{_tail(stderr)}")
            if line.startswith(READY_PREFIX):
                return line[len(READY_PREFIX) :].strip()


def _tail(stderr: IO[str], limit: int = 4000) -> str:
    stderr.flush()
    stderr.seek(0)
    text = stderr.read()[-limit:]
    return f"; stderr:\n{text}" if text else ""


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()
