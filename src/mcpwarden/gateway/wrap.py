"""The stdio front: `mcpwarden wrap -- COMMAND` sits between an MCP client and a local
stdio server, with the same session logic, guard pipeline and audit as the HTTP gateway.

The client talks to us on our stdin/stdout; the wrapped server is our child. Only
well-formed JSON-RPC crosses in either direction; a malformed line from the client gets a
JSON-RPC error back, a malformed line from the server is dropped and audited.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any

import orjson

from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.channel import Channel
from mcpwarden.gateway.core import GatewayCore
from mcpwarden.gateway.session import Session
from mcpwarden.types import ANONYMOUS

MAX_LINE_BYTES = 8 * 1_048_576


class StdioFront:
    def __init__(self, core: GatewayCore, upstream: str) -> None:
        self.core = core
        self.upstream = upstream
        self.session: Session | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._write_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_LINE_BYTES)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
        transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, sys.stdout.buffer
        )
        self._writer = asyncio.StreamWriter(transport, protocol, None, loop)
        await self.core.start()
        stdin_task = asyncio.create_task(self._read_client(reader))
        try:
            while True:
                waiters: list[asyncio.Future[Any]] = [stdin_task]
                if self.session is not None:
                    waiters.append(asyncio.ensure_future(self.session.upstream_gone.wait()))
                done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED, timeout=1.0)
                for w in waiters[1:]:
                    if w not in done:
                        w.cancel()
                if stdin_task in done or (self.session is not None and self.session.upstream_gone.is_set()):
                    break
        finally:
            stdin_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stdin_task
            for t in list(self._tasks):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(t, 1.0)
            await self.core.stop()
        return 0

    async def _read_client(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                line = await reader.readline()
            except ValueError:
                await self._write(
                    jsonrpc.error(
                        None, jsonrpc.INVALID_REQUEST, "message too long", reason="transport.body_too_large"
                    )
                )
                self.core.audit_event("rejected", reason="transport.body_too_large")
                continue
            if not line:
                return
            line = line.strip()
            if line:
                await self._handle_line(line)

    async def _handle_line(self, line: bytes) -> None:
        try:
            msg = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            self.core.audit_event("rejected", reason="jsonrpc.parse_error", message=str(exc))
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
            channel = self.session.handle_request(msg, len(line))
            self._spawn(self._pump_channel(channel))
        elif kind == "notification":
            await self.session.handle_notification(msg)
        else:
            await self.session.handle_response(msg)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pump_channel(self, channel: Channel) -> None:
        while True:
            msg, data = await channel.queue.get()
            if data is None:
                await self._write(msg)
                continue
            if data:
                await self._write_raw(data)
            return

    async def _pump_unsolicited(self, session: Session) -> None:
        while not session.closed:
            msg = await session.unsolicited.get()
            if msg is None:
                return
            await self._write(msg)

    async def _write(self, msg: dict[str, Any]) -> None:
        await self._write_raw(orjson.dumps(msg))

    async def _write_raw(self, data: bytes) -> None:
        assert self._writer is not None
        async with self._write_lock:
            self._writer.write(data + b"\n")
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                await self._writer.drain()
