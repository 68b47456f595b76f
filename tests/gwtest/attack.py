"""A black-box attack kit: what issue 11's attacks did to a real gateway, as reusable pieces.

Everything here acts from outside the gateway process: loopback sockets, signals, a small
filesystem, many concurrent clients. Tests combine the pieces with `gwtest.procs.gateway`
and assert on what the gateway answered and what its audit file says.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from gwtest.procs import Gateway
from gwtest.raw import HEADERS, body_of, open_session, post

# ---------------------------------------------------------------------- calls under load


def tools_call(tool: str, arguments: dict[str, Any], id_: int | str) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": id_,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }


def call(client: httpx.Client, url: str, sid: str, tool: str, args: dict[str, Any], id_: int = 1) -> Any:
    """One tools/call on an open session; the JSON-RPC message that came back."""
    return body_of(post(client, url, tools_call(tool, args, id_), **{"mcp-session-id": sid}))


@dataclass
class Load:
    """Clients that keep calling until stopped; records which calls got an answer."""

    url: str
    tool: str
    make_args: Callable[[int, int], dict[str, Any]]
    clients: int = 8
    sent: list[dict[str, Any]] = field(default_factory=list)
    answered: list[dict[str, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        for n in range(self.clients):
            t = threading.Thread(target=self._run, args=(n,), daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def wait_for(self, answered: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.answered) < answered and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.answered) >= answered, f"only {len(self.answered)} calls answered"

    def _run(self, n: int) -> None:
        with httpx.Client(timeout=30) as client:
            try:
                sid = open_session(client, self.url)
            except (httpx.HTTPError, AssertionError):
                return
            i = 0
            while not self._stop.is_set():
                i += 1
                args = self.make_args(n, i)
                with self._lock:
                    self.sent.append(args)
                try:
                    reply = call(client, self.url, sid, self.tool, args, id_=i)
                except (httpx.HTTPError, ValueError):
                    return  # the gateway went away mid-call
                with self._lock:
                    self.answered.append(reply)


def kill9(gw: Gateway) -> None:
    """SIGKILL the gateway process (not its children: they see their stdin close)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(gw.proc.pid, signal.SIGKILL)
    gw.proc.wait(10)


# ---------------------------------------------------------------------- small filesystem


@contextlib.contextmanager
def small_filesystem(size_kb: int = 256) -> Iterator[Path]:
    """A tmpfs of `size_kb` KiB (needs root and mount); the test is skipped where it can't."""
    where = Path(tempfile.mkdtemp(prefix="mcpw-smallfs-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0700", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        with contextlib.suppress(OSError):
            where.rmdir()


def fill_disk(directory: Path, name: str = "filler") -> Path:
    """Write a file until the filesystem is full; returns it (delete it to free the space)."""
    target = directory / name
    with open(target, "wb", buffering=0) as f:
        chunk = b"\0" * 4096
        with contextlib.suppress(OSError):
            while True:
                f.write(chunk)
        with contextlib.suppress(OSError):
            while True:
                f.write(b"\0")
    return target


# ---------------------------------------------------------------------- slow and idle clients


@contextlib.contextmanager
def slowloris(
    port: int, count: int, *, partial: bytes = b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
) -> Iterator[list[socket.socket]]:
    """`count` loopback connections that send part of a request and then nothing."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(partial)
            socks.append(s)
        yield socks
    finally:
        for s in socks:
            with contextlib.suppress(OSError):
                s.close()


def closed_by_peer(sock: socket.socket, timeout: float) -> bool:
    """Whether the gateway closes this connection within `timeout` seconds."""
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except TimeoutError:
        return False
    except OSError:
        return True


@contextlib.contextmanager
def idle_streams(port: int, path: str, sid: str, count: int) -> Iterator[list[tuple[socket.socket, bytes]]]:
    """`count` GET event streams on one session, opened with raw sockets and never read again.

    Yields (socket, the response head) pairs so a test can tell accepted streams (200) from
    refused ones.
    """
    opened: list[tuple[socket.socket, bytes]] = []
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
        f"Mcp-Session-Id: {sid}\r\nMcp-Protocol-Version: 2025-11-25\r\n\r\n"
    ).encode()
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(request)
            opened.append((s, _read_head(s)))
        yield opened
    finally:
        for s, _ in opened:
            with contextlib.suppress(OSError):
                s.close()


def _read_head(s: socket.socket) -> bytes:
    """The response head, plus its body when it declares a content-length (a refusal)."""
    head = b""
    with contextlib.suppress(TimeoutError):
        while b"\r\n\r\n" not in head and len(head) < 65536:
            data = s.recv(4096)
            if not data:
                break
            head += data
        top, _, body = head.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in top.lower().split(b"\r\n")
                if line.startswith(b"content-length:")
            ),
            0,
        )
        while len(body) < length:
            data = s.recv(4096)
            if not data:
                break
            body += data
            head += data
    return head


def status_of(head: bytes) -> int:
    try:
        return int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


# ---------------------------------------------------------------------- audit reading


def audit_records(path: Path) -> list[dict[str, Any]]:
    """Every complete record of an audit file (a torn last line is left out)."""
    if not path.exists():
        return []
    out = []
    for line in path.read_bytes().split(b"\n"):
        if line.strip():
            with contextlib.suppress(orjson.JSONDecodeError):
                out.append(orjson.loads(line))
    return out


def reason_of(reply: Any) -> str | None:
    """`error.data.reason` of a JSON-RPC error reply, None otherwise."""
    if not isinstance(reply, dict):
        return None
    error = reply.get("error")
    data = error.get("data") if isinstance(error, dict) else None
    return data.get("reason") if isinstance(data, dict) else None


__all__ = [
    "HEADERS",
    "Load",
    "audit_records",
    "call",
    "closed_by_peer",
    "fill_disk",
    "idle_streams",
    "kill9",
    "reason_of",
    "slowloris",
    "small_filesystem",
    "status_of",
    "tools_call",
]
