"""The stdio front: `mcpwarden wrap -- COMMAND` sits between an MCP client and a local
stdio server, with the same session logic, guard pipeline and audit as the HTTP gateway.

The client talks to us on our stdin/stdout; the wrapped server is our child. Only
well-formed JSON-RPC crosses in either direction; a malformed line from the client gets a
JSON-RPC error back, a malformed line from the server is dropped and audited.

The client may be hostile or simply broken, and the wrapper must outlive anything it sends:
every line is bounded in length and nesting depth (jsonrpc.problem) before it reaches the
pipeline, ids and request ids must be strings or integers, a failure while handling one message answers that
message (or is audited when it was a notification) instead of ending the process, and the
number of requests in flight is bounded so that a flood waits on the pipe, not in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from typing import Any

import orjson

from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.channel import Channel
from mcpwarden.gateway.core import GatewayCore
from mcpwarden.gateway.session import Session
from mcpwarden.gateway.stdio_io import ClientGone, LineTooLong, Output, bounded_lines, start_reader
from mcpwarden.types import ANONYMOUS

log = logging.getLogger("mcpwarden.wrap")

MAX_LINE_BYTES = 8 * 1_048_576
# Client requests being processed at once; the next line is read only when one finishes.
MAX_IN_FLIGHT = 64
# After the client's input ends, how long calls already read may take to answer.
DRAIN_S = 30.0
# Notifications that name a request by id (cancellations are checked by jsonrpc.problem):
# a malformed id there is dropped, never matched.
_ID_PARAMS = {"notifications/progress": "progressToken"}


class StdioFront:
    def __init__(
        self,
        core: GatewayCore,
        upstream: str,
        *,
        stdin_fd: int | None = None,
        stdout_fd: int | None = None,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> None:
        self.core = core
        self.upstream = upstream
        self.session: Session | None = None
        self.max_line_bytes = max_line_bytes
        self._stdin_fd = sys.stdin.fileno() if stdin_fd is None else stdin_fd
        self._out = Output(sys.stdout.fileno() if stdout_fd is None else stdout_fd)
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._tasks: set[asyncio.Task[None]] = set()
        self._requests: set[asyncio.Task[None]] = set()
        self._client_gone = asyncio.Event()

    async def run(self) -> int:
        await self._out.open()
        chunks = start_reader(self._stdin_fd, asyncio.get_running_loop())
        await self.core.start()
        stdin_task = asyncio.create_task(self._read_client(chunks))
        gone_task = asyncio.create_task(self._client_gone.wait())
        try:
            while True:
                waiters: list[asyncio.Future[Any]] = [stdin_task, gone_task]
                if self.session is not None:
                    waiters.append(asyncio.ensure_future(self.session.upstream_gone.wait()))
                done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED, timeout=1.0)
                for w in waiters[2:]:
                    if w not in done:
                        w.cancel()
                if stdin_task in done or gone_task in done:
                    break
                if self.session is not None and self.session.upstream_gone.is_set():
                    break
        finally:
            for task in (stdin_task, gone_task):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if stdin_task.done() and not stdin_task.cancelled() and stdin_task.exception() is not None:
                log.error("reading the client failed: %s", stdin_task.exception())
            # Calls already read get their answers (the input may have been a file that ended
            # right after them), within a deadline, before the child is stopped.
            if self._requests and not self._client_gone.is_set():
                _, late = await asyncio.wait(list(self._requests), timeout=DRAIN_S)
                for t in late:
                    t.cancel()
            for t in list(self._tasks):
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            await self.core.stop()
            self._out.close()
        return 0

    async def _read_client(self, chunks: asyncio.Queue[bytes]) -> None:
        try:
            async for line in bounded_lines(chunks, self.max_line_bytes):
                await self._handle_guarded(line)
        except ClientGone:
            self._client_gone.set()

    async def _handle_guarded(self, line: bytes | LineTooLong) -> None:
        """One line in, never an exception out except ClientGone (nobody left to answer)."""
        if isinstance(line, LineTooLong):
            self.core.audit_event("rejected", reason="transport.body_too_large", max_bytes=line.limit)
            await self._write(
                jsonrpc.error(
                    None,
                    jsonrpc.INVALID_REQUEST,
                    f"message longer than {line.limit} bytes",
                    reason="transport.body_too_large",
                )
            )
            return
        line = line.strip()
        if not line:
            return
        try:
            await self._handle_line(line)
        except ClientGone:
            raise
        except Exception as exc:  # one bad message must never end the wrapper
            log.error("internal error on a client message: %s: %s", type(exc).__name__, exc)
            self.core.audit_event("error", reason="wrap.internal_error", message=type(exc).__name__)
            await self._write(
                jsonrpc.error(None, jsonrpc.INTERNAL_ERROR, "internal error", reason="wrap.internal_error")
            )

    async def _handle_line(self, line: bytes) -> None:
        try:
            msg = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            self.core.audit_event("rejected", reason="jsonrpc.parse_error", message=str(exc)[:200])
            await self._write(
                jsonrpc.error(
                    None, jsonrpc.PARSE_ERROR, f"not valid JSON: {exc}", reason="jsonrpc.parse_error"
                )
            )
            return
        problem = jsonrpc.problem(msg)
        if problem is not None:
            reason, message = problem
            self.core.audit_event("rejected", reason=reason, message=message)
            await self._write(
                jsonrpc.error(jsonrpc.request_id_of(msg), jsonrpc.INVALID_REQUEST, message, reason=reason)
            )
            return
        kind = jsonrpc.classify(msg)
        if kind == "invalid":
            self.core.audit_event("rejected", reason="jsonrpc.invalid")
            id_ = msg.get("id") if isinstance(msg, dict) and jsonrpc.valid_id(msg.get("id")) else None
            await self._write(
                jsonrpc.error(
                    id_, jsonrpc.INVALID_REQUEST, "not a valid JSON-RPC message", reason="jsonrpc.invalid"
                )
            )
            return
        if kind == "notification" and not self._notification_ids_valid(msg):
            # A notification gets no reply; dropping it is the only safe answer.
            self.core.audit_event("rejected", reason="jsonrpc.invalid", method=msg["method"])
            return
        if self.session is None:
            if kind == "request" and msg["method"] == "initialize":
                self.session = self.core.create_session(
                    ANONYMOUS, [self.upstream], aggregate=False, transport="stdio"
                )
                self._spawn(self._pump_unsolicited(self.session))
            elif kind == "request":
                await self._write(
                    jsonrpc.error(
                        msg["id"],
                        jsonrpc.INVALID_REQUEST,
                        "server not initialized",
                        reason="session.not_initialized",
                    )
                )
                return
            else:
                return
        if kind == "request":
            await self._in_flight.acquire()
            try:
                channel = self.session.handle_request(msg, len(line))
            except Exception:
                self._in_flight.release()
                raise
            if msg["method"] == "initialize":
                # Later lines wait for the handshake: a client that pipelines (a script, a file
                # on stdin) must not reach an upstream that is still starting.
                await self._pump_channel(channel, msg["id"])
            else:
                self._spawn(self._pump_channel(channel, msg["id"]), request=True)
        elif kind == "notification":
            await self.session.handle_notification(msg)
        else:
            await self.session.handle_response(msg)

    @staticmethod
    def _notification_ids_valid(msg: dict[str, Any]) -> bool:
        field = _ID_PARAMS.get(msg["method"])
        if field is None:
            return True
        params = msg.get("params")
        return isinstance(params, dict) and jsonrpc.valid_id(params.get(field))

    def _spawn(self, coro: Any, *, request: bool = False) -> None:
        task = asyncio.create_task(coro)
        tasks = self._requests if request else self._tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _pump_channel(self, channel: Channel, request_id: Any) -> None:
        try:
            while True:
                msg, data = await channel.queue.get()
                if data is None:
                    await self._write(msg)
                    continue
                if data:
                    await self._write_raw(data)
                return
        except ClientGone:
            self._client_gone.set()
        except Exception as exc:
            log.error("internal error answering request %r: %s: %s", request_id, type(exc).__name__, exc)
            self.core.audit_event("error", reason="wrap.internal_error", message=type(exc).__name__)
            with contextlib.suppress(ClientGone):
                await self._write(
                    jsonrpc.error(
                        request_id, jsonrpc.INTERNAL_ERROR, "internal error", reason="wrap.internal_error"
                    )
                )
        finally:
            self._in_flight.release()

    async def _pump_unsolicited(self, session: Session) -> None:
        try:
            while not session.closed:
                msg = await session.unsolicited.get()
                if msg is None:
                    return
                await self._write(msg)
        except ClientGone:
            self._client_gone.set()

    async def _write(self, msg: dict[str, Any]) -> None:
        await self._write_raw(orjson.dumps(msg))

    async def _write_raw(self, data: bytes) -> None:
        await self._out.write_line(data)
