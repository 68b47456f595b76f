"""Stdio upstream: a child process speaking newline-delimited JSON-RPC.

The child gets only the environment the config allows, stdout lines that are not
JSON-RPC are dropped and reported (a server must not print anything else there), stderr
is drained to its own logger (and its first lines to the audit) so a chatty child can never
block on a full pipe, and shutdown follows the spec's order: close stdin, wait, SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil

import orjson

from mcpwarden.config import StdioUpstream
from mcpwarden.gateway.jsonrpc import classify
from mcpwarden.gateway.upstream.base import (
    JSON,
    ClosedHandler,
    EventHandler,
    MessageHandler,
    UpstreamClosed,
    UpstreamConnection,
    UpstreamError,
)

log = logging.getLogger("mcpwarden.upstream.stdio")
stderr_log = logging.getLogger("mcpwarden.upstream.stderr")

# The first lines a child writes on stderr go to the audit too (why a server failed to start
# is usually there); a chatty child must not flood the audit, so only these many, this long.
STDERR_AUDIT_LINES = 20
STDERR_AUDIT_CHARS = 500


TERM_GRACE_S = 2.0


class StdioConnection(UpstreamConnection):
    def __init__(
        self,
        name: str,
        config: StdioUpstream,
        on_message: MessageHandler,
        on_closed: ClosedHandler,
        on_event: EventHandler | None = None,
    ) -> None:
        super().__init__(name, on_message, on_closed)
        self.config = config
        self._on_event = on_event
        self._proc: asyncio.subprocess.Process | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._write_lock = asyncio.Lock()

    async def start(self) -> None:
        cfg = self.config
        # The admin's command is resolved on the gateway's own PATH; the child still gets
        # only its allow-listed environment.
        executable = shutil.which(cfg.command) or cfg.command
        try:
            self._proc = await asyncio.create_subprocess_exec(
                executable,
                *cfg.args,
                cwd=cfg.cwd,
                env=cfg.child_environment(),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=cfg.max_line_bytes,
                start_new_session=True,
            )
        except OSError as exc:
            raise UpstreamError(f"cannot start {cfg.command!r}: {exc.strerror or exc}") from exc
        self._tasks = [
            asyncio.create_task(self._read_stdout(), name=f"stdio-out-{self.name}"),
            asyncio.create_task(self._drain_stderr(), name=f"stdio-err-{self.name}"),
        ]

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def send(self, msg: JSON) -> None:
        proc = self._proc
        if self.closed or proc is None or proc.stdin is None or proc.returncode is not None:
            raise UpstreamClosed(f"upstream {self.name!r} process is not running")
        line = orjson.dumps(msg) + b"\n"
        try:
            async with self._write_lock:
                proc.stdin.write(line)
                await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise UpstreamClosed(f"upstream {self.name!r} closed its stdin") from exc

    async def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        reason = "process exited"
        try:
            while True:
                try:
                    line = await stdout.readline()
                except ValueError:
                    # Longer than max_line_bytes: the rest of the line is unusable.
                    await self._event("upstream.line_too_long", f"> {self.config.max_line_bytes} bytes")
                    reason = "stdout line too long"
                    break
                if not line:
                    break
                line = line.strip()
                if not line:
                    continue
                try:
                    msg = orjson.loads(line)
                except orjson.JSONDecodeError:
                    await self._event("upstream.garbage", line[:200].decode("utf-8", "replace"))
                    continue
                if classify(msg) == "invalid":
                    await self._event("upstream.garbage", line[:200].decode("utf-8", "replace"))
                    continue
                await self._on_message(msg, None)
        except Exception as exc:  # a handler bug must not leave the session hanging
            log.exception("stdio reader for %s failed", self.name)
            reason = f"reader failed: {exc}"
        code = None
        if self._proc is not None:
            with contextlib.suppress(Exception):
                code = await asyncio.wait_for(self._proc.wait(), 1.0)
        if code is not None:
            reason = f"{reason} (exit code {code})"
        await self._closed(reason)

    async def _drain_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        stderr = self._proc.stderr
        audited = 0
        while True:
            try:
                line = await stderr.readline()
            except ValueError:
                continue
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip()
            # Its own logger so that `wrap` can pass a child's stderr through to the user.
            stderr_log.info("%s", text, extra={"upstream": self.name})
            if audited < STDERR_AUDIT_LINES and self._on_event is not None:
                audited += 1
                await self._on_event(self.name, "upstream.stderr", text[:STDERR_AUDIT_CHARS])

    async def _event(self, what: str, detail: str) -> None:
        log.warning("upstream %s: %s: %s", self.name, what, detail)
        if self._on_event is not None:
            await self._on_event(self.name, what, detail)

    async def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.returncode is None:
            if proc.stdin is not None:
                with contextlib.suppress(Exception):
                    proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), TERM_GRACE_S)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), TERM_GRACE_S)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await proc.wait()
        for task in self._tasks:
            if not task.done():
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._closed("closed by gateway")
