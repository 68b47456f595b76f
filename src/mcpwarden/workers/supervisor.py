"""`serve --workers N`: one process binds the address, N worker processes serve it.

Why one bound socket shared by inheritance rather than SO_REUSEPORT in each worker: the
kernel keeps one accept queue for the address whatever happens to the workers, so a
connection that arrives while a worker is dead or restarting waits for a live one instead of
being reset (with SO_REUSEPORT each worker has its own queue, and what was hashed to a
dying worker's queue is lost); `--port 0` yields one port for all; and nothing else on the
host can bind the same port beside us, which SO_REUSEPORT allows to any process of the same
user. Idle workers wake on a new connection and the first to accept it takes it, so a busy
worker takes fewer: that is the balancing. It is not an even split: on a quiet host the kernel
(epoll waking the process that ran last first) can give one worker nearly every connection.

The supervisor does nothing on the request path. It restarts a worker that exits (after a
bounded, growing pause, so a crash loop cannot spin), forwards SIGTERM/SIGINT as one SIGTERM
to each worker (each drains its calls, as a single gateway does) and SIGHUP (reload), and
gives up with a non-zero status when a worker exits before it ever got ready several times
in a row (a bad config, a store it cannot open): looping on that would hide the error.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpwarden.workers.identity import ENV, WorkerSlot

MAX_START_FAILURES = 3  # exits before ready, in a row, before the supervisor gives up
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0, 10.0)
STABLE_S = 30.0  # a worker up this long has its backoff reset
BACKLOG = 2048
TICK_S = 0.1


@dataclass
class _Worker:
    index: int
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    ready: bool = False
    start_failures: int = 0  # exits before ready, in a row
    quick_exits: int = 0  # exits within STABLE_S, in a row
    restart_at: float | None = None
    exits: list[int] = field(default_factory=list)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


class Supervisor:
    """Starts, watches and stops the workers; `run` returns the process's exit status."""

    def __init__(self, command: list[str], sock: socket.socket, count: int, *, drain_s: float) -> None:
        self.command = command
        self.sock = sock
        self.count = count
        self.drain_s = drain_s
        self.run_dir = Path(tempfile.mkdtemp(prefix="mcpwarden-workers-"))  # mode 0700
        self.ready_r, self.ready_w = os.pipe()
        os.set_inheritable(self.ready_w, True)
        self.workers = [_Worker(i) for i in range(count)]
        self.stopping = False
        self.announced = False
        self._buffer = b""
        self._hup = False

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def run(self, announce: Any) -> int:
        """Serve until SIGTERM/SIGINT (0) or until a worker cannot start (its status, else 1)."""
        previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)
        status = 0
        try:
            for worker in self.workers:
                self._spawn(worker)
            while not self.stopping:
                status = self._tick(announce)
                if status:
                    break
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._close()
        return status

    def _tick(self, announce: Any) -> int:
        with contextlib.suppress(InterruptedError):
            readable, _, _ = select.select([self.ready_r], [], [], TICK_S)
            if readable:
                self._read_ready()
        if self._hup:
            self._hup = False
            self._signal_all(signal.SIGHUP)
        now = time.monotonic()
        for worker in self.workers:
            exited = worker.proc is not None and worker.proc.poll() is not None
            if exited and not self.stopping and self._exited(worker, now):
                # The worker's own status when it said why (2: a usage or config error).
                return worker.exits[-1] if worker.exits[-1] > 0 else 1
            if worker.proc is None and worker.restart_at is not None and now >= worker.restart_at:
                self._spawn(worker)
        if not self.announced and all(w.ready for w in self.workers):
            self.announced = True
            announce(self.port)
        return 0

    def _exited(self, worker: _Worker, now: float) -> bool:
        """Schedule the restart; True when the worker keeps failing to start (give up)."""
        assert worker.proc is not None
        code = worker.proc.returncode
        worker.exits.append(code)
        worker.proc = None
        uptime = now - worker.started
        if not worker.ready:
            worker.start_failures += 1
            if worker.start_failures >= MAX_START_FAILURES:
                _say(f"worker w{worker.index} exited {worker.start_failures} times before it was ready "
                     f"(last status {code}); stopping")  # fmt: skip
                return True
        worker.ready = False
        worker.quick_exits = worker.quick_exits + 1 if uptime < STABLE_S else 0
        pause = BACKOFF_S[min(max(worker.quick_exits, worker.start_failures), len(BACKOFF_S) - 1)]
        _say(f"worker w{worker.index} exited with status {code} after {uptime:.1f} s; restart in {pause:g} s")
        worker.restart_at = now + pause
        return False

    def _spawn(self, worker: _Worker) -> None:
        slot = WorkerSlot(worker.index, self.count, self.sock.fileno(), self.ready_w, self.run_dir)
        env = {**os.environ, ENV: slot.encode()}
        worker.proc = subprocess.Popen(
            self.command, env=env, pass_fds=(self.sock.fileno(), self.ready_w), preexec_fn=_die_with_parent
        )
        worker.started = time.monotonic()
        worker.ready = False
        worker.restart_at = None

    def _read_ready(self) -> None:
        """Workers write `<index>:<pid>` once they accept connections."""
        self._buffer += os.read(self.ready_r, 4096)
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            index, _, pid = line.decode().partition(":")
            worker = self.workers[int(index)]
            if worker.proc is not None and worker.proc.pid == int(pid):
                worker.ready = True
                worker.start_failures = 0

    def _on_stop(self, _sig: int, _frame: Any) -> None:
        self.stopping = True

    def _on_hup(self, _sig: int, _frame: Any) -> None:
        self._hup = True

    def _signal_all(self, sig: int) -> None:
        for worker in self.workers:
            if worker.proc is not None and worker.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    worker.proc.send_signal(sig)

    def _stop_all(self) -> None:
        """SIGTERM to each worker (each drains), SIGKILL to any still running after the drain."""
        self._signal_all(signal.SIGTERM)
        deadline = time.monotonic() + self.drain_s + 15.0
        for worker in self.workers:
            if worker.proc is None:
                continue
            try:
                worker.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait()

    def _close(self) -> None:
        self.sock.close()
        for fd in (self.ready_r, self.ready_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.run_dir, ignore_errors=True)


def _die_with_parent() -> None:
    """In the child before exec: a SIGKILLed supervisor takes its workers with it (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _say(text: str) -> None:
    print(f"mcpwarden: {text}", file=sys.stderr, flush=True)
