"""Streamable HTTP upstream: the gateway acting as an MCP client over HTTP.

Every request is its own POST whose reply is JSON or an SSE stream; all messages on that
stream are delivered as related to the request. After `notifications/initialized`, a GET
stream carries server-initiated messages. The upstream's session id stays inside this
object: clients only ever see the gateway's own ids.

The upstream is treated as hostile: redirects are never followed (a 3xx would otherwise
resend the request, its headers and credentials wherever the upstream points), every
request takes a slot from this upstream's own bounded pool, the whole exchange (waiting for
a connection included) runs under the request's time limit, and replies are counted while
they are read and cut off at the cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson

from mcpwarden.auth.upstream import UpstreamAuthError
from mcpwarden.config import HttpUpstream
from mcpwarden.egress import EgressDenied
from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.upstream import http_wire
from mcpwarden.gateway.upstream.base import (
    JSON,
    ClosedHandler,
    EventHandler,
    MessageHandler,
    UpstreamClosed,
    UpstreamConnection,
    UpstreamError,
)
from mcpwarden.gateway.upstream.http_wire import HTTP_ERRORS, lines, redirect, status_error, unreachable
from mcpwarden.gateway.upstream.limits import CHUNK, Garbage, TooLarge, read_body, read_cap
from mcpwarden.gateway.upstream.pools import UpstreamPool
from mcpwarden.gateway.upstream.sse import iter_sse

DELETE_TIMEOUT_S = 5.0

log = logging.getLogger("mcpwarden.upstream.http")

# Produces this upstream's own credential headers for one request. Async because a
# provider may have to fetch (and then caches) a token at the IdP.
CredentialHook = Callable[[], Awaitable[dict[str, str]]]

ACCEPT = "application/json, text/event-stream"
MAX_RESUME_ATTEMPTS = 5
MAX_GET_FAILURES = 5


class HttpConnection(UpstreamConnection):
    def __init__(
        self,
        name: str,
        config: HttpUpstream,
        pool: UpstreamPool,
        on_message: MessageHandler,
        on_closed: ClosedHandler,
        credentials: CredentialHook | None = None,
        on_event: EventHandler | None = None,
    ) -> None:
        super().__init__(name, on_message, on_closed)
        self.config = config
        self._pool = pool
        self._credentials = credentials
        self._on_event = on_event
        self._session_id: str | None = None
        self._posts: dict[Any, asyncio.Task[None]] = {}
        self._get_task: asyncio.Task[None] | None = None
        # Set once the GET stream is open, or known not to be coming (refused, failed, gone):
        # requests after `notifications/initialized` wait for it (see `_await_get_stream`).
        self._get_settled = asyncio.Event()
        self._closing = False  # set by close(): the GET loop stops even if a cancel is lost

    async def start(self) -> None:
        """Nothing to open: the first POST (initialize) starts the upstream session. An
        address literal in the URL never reaches the resolver, so it is checked here."""
        try:
            self._pool.policy.check_url(self.config.url)
        except EgressDenied as exc:
            raise UpstreamError(str(exc), reason="upstream.egress_denied") from None

    async def _headers(self, *, sse_only: bool = False) -> dict[str, str]:
        """Headers for one upstream request, built from scratch: nothing the client sent is copied.

        Credentials come from this upstream's own provider on every request (it caches), so
        a rotated secret or a renewed token takes effect without reconnecting.
        """
        headers = dict(self.config.headers)
        if self._credentials is not None:
            try:
                headers.update(await self._credentials())
            except UpstreamAuthError as exc:
                raise UpstreamError(
                    f"no credentials for upstream {self.name!r}: {exc}", reason="upstream.credentials"
                ) from None
        headers["accept"] = "text/event-stream" if sse_only else ACCEPT
        if self._session_id is not None:
            headers["mcp-session-id"] = self._session_id
        if self.protocol_version is not None:
            headers["mcp-protocol-version"] = self.protocol_version
        return headers

    async def send(self, msg: JSON) -> None:
        if self.closed:
            raise UpstreamClosed(f"upstream {self.name!r} session is closed")
        if "method" in msg and "id" in msg:
            if msg["method"] == "initialize":
                # The session id arrives on this response; everything else must wait for it.
                await self._post_request(msg)
            else:
                await self._await_get_stream()
                rid = msg["id"]
                task = asyncio.create_task(self._post_request(msg), name=f"http-post-{self.name}-{rid}")
                self._posts[rid] = task
                task.add_done_callback(functools.partial(self._forget_post, rid))
            return
        await self._post_one_way(msg)

    async def _await_get_stream(self) -> None:
        """Hold requests until the GET stream opened after `notifications/initialized` is up.

        A server may answer a request with a message on its GET stream (an elicitation,
        say); if the request overtakes the stream, the server has nowhere to send it and
        the call hangs until its timeout. The wait is bounded by `connect_timeout_s`; a
        stream that takes longer is reported and the request goes anyway.
        """
        if self._get_task is None or self._get_settled.is_set():
            return
        try:
            async with asyncio.timeout(self.config.connect_timeout_s):
                await self._get_settled.wait()
        except TimeoutError:
            self._get_settled.set()  # report once, then stop holding requests
            await self._event(
                "upstream.get_stream_slow",
                f"GET stream not open after {self.config.connect_timeout_s:g}s; "
                "messages the upstream sends on it before then are lost",
            )

    def _forget_post(self, rid: Any, _task: asyncio.Task[None]) -> None:
        self._posts.pop(rid, None)

    def abandon(self, request_id: Any) -> None:
        """Stop reading the reply to a request the session gave up on (timeout, cancel)."""
        task = self._posts.pop(request_id, None)
        if task is not None and not task.done():
            task.cancel()

    async def _post_one_way(self, msg: JSON) -> None:
        headers = {**await self._headers(), **self.extra_headers(msg)}
        try:
            async with (
                asyncio.timeout(self.config.timeout_s),
                self._pool.calls.slot() as client,
                client.post(
                    self.config.url,
                    data=orjson.dumps(msg),
                    headers={**headers, "content-type": "application/json"},
                    allow_redirects=False,
                ) as resp,
            ):
                await read_body(resp.content.iter_chunked(CHUNK), self.config.max_message_bytes)
                status = resp.status
        except TooLarge:
            status = 202  # an answer to a notification carries nothing the gateway needs
        except TimeoutError:
            raise UpstreamError(
                f"upstream {self.name!r} did not accept a notification within {self.config.timeout_s:g}s",
                reason="upstream.timeout",
            ) from None
        except aiohttp.ClientError as exc:
            raise unreachable(self.name, exc) from exc
        if status == 404 and self._session_id is not None:
            await self._closed("upstream session expired (404)")
            raise UpstreamClosed(f"upstream {self.name!r} ended the session")
        if status >= 300:
            raise status_error(self.name, status)

    async def _post_request(self, msg: JSON) -> None:
        rid = msg["id"]
        method = msg.get("method")
        cap = read_cap(method, self.config.max_message_bytes, self.config.max_result_bytes)
        # The whole exchange, waiting for a connection included, runs under the request's
        # limit; `connect_timeout_s` bounds reaching the upstream (TCP connect) inside it.
        limit = self.config.timeout_s
        try:
            async with asyncio.timeout(limit):
                await self._exchange(msg, rid, cap)
        except TimeoutError:
            await self._fail(rid, f"upstream did not answer {method} within {limit:g}s", "upstream.timeout")
        except TooLarge as exc:
            await self._fail(
                rid,
                f"reply to {method} from {self.name!r} {exc}; it was cut off while reading",
                "result.too_large",
                cap=exc.cap,
            )
        except Garbage as exc:
            await self._fail(rid, f"upstream {self.name!r} sent garbage: {exc}", "upstream.bad_response")
        except UpstreamError as exc:
            await self._fail(rid, str(exc), exc.reason)
        except aiohttp.ClientError as exc:
            err = unreachable(self.name, exc)
            await self._fail(rid, str(err), err.reason)

    async def _exchange(self, msg: JSON, rid: Any, cap: int) -> None:
        headers = {**await self._headers(), **self.extra_headers(msg)}
        async with (
            self._pool.calls.slot() as client,
            client.post(
                self.config.url,
                data=orjson.dumps(msg),
                headers={**headers, "content-type": "application/json"},
                allow_redirects=False,
            ) as resp,
        ):
            if msg.get("method") == "initialize" and resp.status < 300:
                sid = resp.headers.get("mcp-session-id")
                if sid:
                    self._session_id = sid
            if resp.status == 404 and self._session_id is not None and msg.get("method") != "initialize":
                await self._fail(rid, "upstream session expired", "upstream.session_expired")
                await self._closed("upstream session expired (404)")
                return
            if 300 <= resp.status < 400:
                raise redirect(self.name, resp)
            if resp.status >= 400:
                with contextlib.suppress(TooLarge):
                    text = await read_body(resp.content.iter_chunked(CHUNK), 64 * 1024)
                    await self._deliver_error_body(rid, resp.status, text[:300].decode("utf-8", "replace"))
                    return
                await self._fail(rid, f"upstream answered HTTP {resp.status}", "upstream.http_error")
                return
            ctype = resp.headers.get("content-type", "")
            if ctype.startswith("text/event-stream"):
                answered, last_id = await self._relay_sse(resp, rid, cap)
                if answered:
                    await http_wire.drain_tail(resp)
                elif last_id is not None:
                    answered = await self._resume(rid, last_id, cap)
                if not answered:
                    await self._fail(
                        rid, "upstream closed the stream without a response", "upstream.no_response"
                    )
                return
            body = await read_body(resp.content.iter_chunked(CHUNK), cap, resp.content_length)
        if resp.status == 202 or not body:
            await self._fail(
                rid, "upstream accepted the request but sent no response", "upstream.no_response"
            )
            return
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            await self._fail(rid, "upstream sent a body that is not JSON", "upstream.bad_response")
            return
        for item in payload if isinstance(payload, list) else [payload]:
            if isinstance(item, dict):
                await self._on_message(item, rid)

    async def _relay_sse(self, resp: aiohttp.ClientResponse, rid: Any, cap: int) -> tuple[bool, str | None]:
        """Relay one POST's event stream; a non-JSON event ends it at once (a garbage-speaking
        upstream gets a clear error now, not a timeout later)."""
        last_id: str | None = None
        async for event in iter_sse(lines(resp, cap), cap):
            if event.id:
                last_id = event.id
            if event.event != "message" or not event.data:
                continue
            try:
                item = orjson.loads(event.data)
            except orjson.JSONDecodeError:
                await self._fail(rid, "upstream sent an event that is not JSON", "upstream.bad_response")
                return True, None
            if not isinstance(item, dict):
                await self._event(
                    "upstream.garbage", f"SSE event is not a JSON-RPC message: {event.data[:200]}"
                )
                continue
            await self._on_message(item, rid)
            if item.get("id") == rid and ("result" in item or "error" in item):
                return True, last_id
        return False, last_id

    async def _resume(self, rid: Any, last_id: str, cap: int) -> bool:
        """Reconnect with Last-Event-ID after the server closed a stream early (SEP-1699)."""
        for _ in range(MAX_RESUME_ATTEMPTS):
            headers = {**await self._headers(sse_only=True), "last-event-id": last_id}
            async with (
                self._pool.calls.slot() as client,
                client.get(self.config.url, headers=headers, allow_redirects=False) as resp,
            ):
                if 300 <= resp.status < 400:
                    raise redirect(self.name, resp)
                if resp.status >= 400:
                    return False
                answered, new_last = await self._relay_sse(resp, rid, cap)
            if answered:
                return True
            if new_last is None:
                return False
            last_id = new_last
        return False

    async def _deliver_error_body(self, rid: Any, status: int, body: str) -> None:
        # An upstream may answer an HTTP error with a JSON-RPC error for our id: keep it.
        with contextlib.suppress(orjson.JSONDecodeError):
            parsed = orjson.loads(body)
            if isinstance(parsed, dict) and "error" in parsed:
                parsed["id"] = rid
                await self._on_message(parsed, rid)
                return
        await self._fail(rid, f"upstream answered HTTP {status}", "upstream.http_error", status=status)

    async def _fail(self, rid: Any, message: str, reason: str, **data: Any) -> None:
        code = jsonrpc.UPSTREAM_UNAVAILABLE
        await self._on_message(
            jsonrpc.error(rid, code, message, reason=reason, upstream=self.name, synthetic=True, **data), rid
        )

    async def _event(self, reason: str, detail: str) -> None:
        log.warning("upstream %s: %s: %s", self.name, reason, detail)
        if self._on_event is not None:
            await self._on_event(self.name, reason, detail)

    def initialized(self) -> None:
        if self._get_task is None and not self.closed:
            self._get_task = asyncio.create_task(self._listen(), name=f"http-get-{self.name}")

    async def _listen(self) -> None:
        """The server-initiated stream, from the streams pool so it never holds a request slot."""
        try:
            await self._listen_loop()
        finally:
            self._get_settled.set()

    async def _listen_loop(self) -> None:
        failures = 0
        last_id: str | None = None
        delay = 0.5
        while not self.closed and not self._closing and failures < MAX_GET_FAILURES:
            try:
                last_id, delay, keep = await self._listen_once(last_id, delay)
                if not keep:
                    return
                failures = 0
            except asyncio.CancelledError:
                raise
            except UpstreamError as exc:
                failures += 1
                await self._event(exc.reason, str(exc))
            except TooLarge as exc:
                failures += 1
                await self._event("result.too_large", f"server-initiated stream: {exc}")
            except Garbage as exc:
                failures += 1
                await self._event("upstream.bad_response", f"server-initiated stream: {exc}")
            except HTTP_ERRORS as exc:
                failures += 1
                err = unreachable(self.name, exc)
                if err.reason == "upstream.egress_denied":
                    await self._event(err.reason, str(err))
            if failures:
                # Requests stop waiting for a stream that is failing; it may still come back.
                self._get_settled.set()
            await asyncio.sleep(delay)
        if failures >= MAX_GET_FAILURES and not self.closed:
            await self._event(
                "upstream.get_stream_lost",
                f"GET stream failed {failures} times; messages the upstream sends on it are lost",
            )

    async def _listen_once(self, last_id: str | None, delay: float) -> tuple[str | None, float, bool]:
        """One GET stream; returns (last event id, retry delay, whether to reconnect)."""
        headers = await self._headers(sse_only=True)
        if last_id is not None:
            headers["last-event-id"] = last_id
        cap = self.config.max_message_bytes
        async with (
            self._pool.streams.slot() as client,
            client.get(self.config.url, headers=headers, allow_redirects=False) as resp,
        ):
            if resp.status == 405:
                return last_id, delay, False  # the upstream offers no server-initiated stream
            if resp.status == 404:
                await self._closed("upstream session expired (404)")
                return last_id, delay, False
            if 300 <= resp.status < 400:
                raise redirect(self.name, resp)
            if resp.status >= 400 or not resp.headers.get("content-type", "").startswith("text/event-stream"):
                raise UpstreamError(
                    f"upstream {self.name!r} answered its GET stream with HTTP {resp.status} "
                    f"({resp.headers.get('content-type', 'no content type')})",
                    reason="upstream.http_error",
                )
            # The upstream has registered the stream once it answers: from now on what it
            # sends there reaches us, so requests may go.
            self._get_settled.set()
            async for event in iter_sse(lines(resp, cap), cap):
                if event.id:
                    last_id = event.id
                if event.retry_ms is not None:
                    delay = min(max(0.05, event.retry_ms / 1000), 60.0)
                if event.event != "message" or not event.data:
                    continue
                try:
                    item = orjson.loads(event.data)
                except orjson.JSONDecodeError:
                    raise UpstreamError(
                        f"upstream {self.name!r} sent a non-JSON event on its server-initiated stream",
                        reason="upstream.bad_response",
                    ) from None
                if isinstance(item, dict):
                    await self._on_message(item, None)
                else:
                    await self._event(
                        "upstream.garbage", f"SSE event is not a JSON-RPC message: {event.data[:200]}"
                    )
        return last_id, delay, True

    async def close(self) -> None:
        tasks = [t for t in self._posts.values() if not t.done()]
        if self._get_task is not None:
            tasks.append(self._get_task)
        self._closing = True
        for t in tasks:
            t.cancel()
        if tasks:  # bounded, so a task that swallowed its cancellation cannot hold a DELETE
            done, _ = await asyncio.wait(tasks, timeout=DELETE_TIMEOUT_S)
            _ = [t.exception() for t in done if not t.cancelled()]
        if self._session_id is not None and not self.closed:
            with contextlib.suppress(UpstreamError, TooLarge, *HTTP_ERRORS):
                headers = await self._headers()
                async with (
                    asyncio.timeout(DELETE_TIMEOUT_S),
                    self._pool.calls.slot() as client,
                    client.delete(self.config.url, headers=headers, allow_redirects=False) as resp,
                ):
                    await read_body(resp.content.iter_chunked(CHUNK), 64 * 1024)
        await self._closed("closed by gateway")
