"""Stdio upstream: a child process speaking newline-delimited JSON-RPC.

The child gets only the environment the config allows, stdout lines that are not
JSON-RPC are dropped and reported (a server must not print anything else there), stderr
is drained to its own logger (and its first lines to the audit) so a chatty child can never
block on a full pipe, and shutdown follows the spec's order: close stdin, wait, SIGTERM, then SIGKILL.

Stdout is split into lines while it is read, counting bytes: a line longer than its cap
(`max_line_bytes`, or the result cap when the line answers a tools/call) is cut off as soon
as it passes the cap and its request gets `result.too_large`, without the gateway ever
holding more than the cap. A child that prints nothing but garbage is declared broken
after a small budget of bad lines, so its requests fail at once instead of timing out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from typing import Any

import orjson

from mcpwarden.config import StdioUpstream
from mcpwarden.gateway import jsonrpc
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
from mcpwarden.gateway.upstream.limits import CHUNK, Oversize, peek_id, read_cap, split_lines

log = logging.getLogger("mcpwarden.upstream.stdio")
stderr_log = logging.getLogger("mcpwarden.upstream.stderr")

# The first lines a child writes on stderr go to the audit too (why a server failed to start
# is usually there); a chatty child must not flood the audit, so only these many, this long.
STDERR_AUDIT_LINES = 20
STDERR_AUDIT_CHARS = 500


TERM_GRACE_S = 2.0
# Consecutive stdout lines that are not JSON-RPC before the child counts as broken (a few
# banner lines are tolerated; a stream of garbage is not).
MAX_GARBAGE_LINES = 32


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
        # Method of each request in flight, so a reply's read cap follows what it answers.
        self._methods: dict[Any, str] = {}

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
        if "method" in msg and "id" in msg and isinstance(msg["method"], str):
            self._methods[msg["id"]] = msg["method"]
        try:
            async with self._write_lock:
                proc.stdin.write(line)
                await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise UpstreamClosed(f"upstream {self.name!r} closed its stdin") from exc

    def abandon(self, request_id: Any) -> None:
        self._methods.pop(request_id, None)

    def _line_cap(self, prefix: bytes) -> int:
        cfg = self.config
        return read_cap(self._methods.get(peek_id(prefix)), cfg.max_line_bytes, cfg.max_result_bytes)

    async def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        reason = "process exited"
        garbage = 0
        try:
            async for line in split_lines(
                lambda: stdout.read(CHUNK), self.config.max_line_bytes, self._line_cap
            ):
                if isinstance(line, Oversize):
                    await self._too_large(line)
                    continue
                line = line.strip()
                if not line:
                    continue
                msg = self._parse(line)
                if msg is None:
                    garbage += 1
                    await self._event("upstream.garbage", line[:200].decode("utf-8", "replace"))
                    if garbage >= MAX_GARBAGE_LINES:
                        reason = f"{garbage} consecutive stdout lines that are not JSON-RPC"
                        await self._event("upstream.bad_response", reason)
                        break
                    continue
                garbage = 0
                if "method" not in msg:
                    self._methods.pop(msg.get("id"), None)
                await self._on_message(msg, None)
        except Exception as exc:  # a handler bug must not leave the session hanging
            log.exception("stdio reader for %s failed", self.name)
            reason = f"reader failed: {exc}"
        code = None
        if self._proc is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    code = await self._proc.wait()
        if code is not None:
            reason = f"{reason} (exit code {code})"
        await self._closed(reason)

    @staticmethod
    def _parse(line: bytes) -> JSON | None:
        try:
            msg = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        return msg if classify(msg) != "invalid" else None

    async def _too_large(self, line: Oversize) -> None:
        """Fail the request an oversized line answered (when its id shows which), and audit."""
        rid = peek_id(line.prefix)
        method = self._methods.pop(rid, None)
        await self._event("result.too_large", f"stdout line over {line.cap} bytes cut off (id {rid!r})")
        if method is not None:
            await self._on_message(
                jsonrpc.error(
                    rid,
                    jsonrpc.UPSTREAM_UNAVAILABLE,
                    f"reply to {method} from {self.name!r} exceeds the {line.cap}-byte cap; "
                    "it was cut off while reading",
                    reason="result.too_large",
                    upstream=self.name,
                    cap=line.cap,
                    synthetic=True,
                ),
                None,
            )

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
                async with asyncio.timeout(TERM_GRACE_S):
                    await proc.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                try:
                    async with asyncio.timeout(TERM_GRACE_S):
                        await proc.wait()
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
