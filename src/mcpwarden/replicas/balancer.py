"""A small HTTP load balancer with Mcp-Session-Id affinity, for local replica setups and tests.

Production deployments use HAProxy, nginx or a cloud balancer (examples/replicas/ shows the
affinity settings); this one exists so that `make replicas-up` and the replica tests need
nothing that has to be installed as root. It does what those do, and nothing more:

* requests without a session (initialize, 2026-07-28 stateless calls) go round-robin to
  the backends that answer;
* the session id a backend returns is remembered (bounded table), and every later request
  carrying it goes to the same backend: sessions stick to the replica that minted them;
* a session whose backend is down is sent to another one, which answers 404 naming the
  gone owner, so the client starts a new session (see docs/replicas.md);
* responses are streamed through unbuffered (SSE), request bodies are bounded.

Run: python -m mcpwarden.replicas.balancer --listen 127.0.0.1:8770 http://127.0.0.1:8771 ...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import signal
import time
from collections import OrderedDict
from collections.abc import Sequence

import aiohttp
from aiohttp import web

SESSION_HEADER = "Mcp-Session-Id"
MAX_BODY_BYTES = 8 * 1_048_576
MAX_SESSIONS = 100_000
DOWN_FOR_S = 2.0
CONNECT_TIMEOUT_S = 2.0
# Hop-by-hop headers (RFC 9110 §7.6.1) and those aiohttp recomputes.
HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-encoding",
    }
)


class Balancer:
    def __init__(self, backends: Sequence[str]) -> None:
        if not backends:
            raise ValueError("at least one backend is needed")
        self.backends = [b.rstrip("/") for b in backends]
        self._turn = itertools.cycle(range(len(self.backends)))
        self._owner: OrderedDict[str, str] = OrderedDict()
        self._down_until: dict[str, float] = {}
        self._client: aiohttp.ClientSession | None = None

    # -- choosing ----------------------------------------------------------------------------

    def _up(self, backend: str) -> bool:
        return self._down_until.get(backend, 0.0) <= time.monotonic()

    def candidates(self, session_id: str | None) -> list[str]:
        """Backends to try, in order: the session's owner first, then round-robin."""
        owner = self._owner.get(session_id) if session_id else None
        if owner is not None:
            assert session_id is not None
            self._owner.move_to_end(session_id)
            others = [b for b in self.backends if b != owner]
            return [owner, *(b for b in others if self._up(b)), *(b for b in others if not self._up(b))]
        # Only requests without an owner take a turn, so initialize calls alternate.
        start = next(self._turn)
        ring = self.backends[start:] + self.backends[:start]
        return [b for b in ring if self._up(b)] + [b for b in ring if not self._up(b)]

    def remember(self, session_id: str, backend: str) -> None:
        self._owner[session_id] = backend
        self._owner.move_to_end(session_id)
        while len(self._owner) > MAX_SESSIONS:
            self._owner.popitem(last=False)

    # -- proxying ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.content.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return web.json_response({"error": f"body exceeds {MAX_BODY_BYTES} bytes"}, status=413)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        session_id = request.headers.get(SESSION_HEADER)
        assert self._client is not None
        last_error = "no backend"
        for backend in self.candidates(session_id):
            try:
                upstream = await self._client.request(
                    request.method,
                    backend + request.rel_url.path_qs,
                    headers=headers,
                    data=body if body else None,
                    allow_redirects=False,
                )
            except (TimeoutError, aiohttp.ClientConnectionError) as exc:
                self._down_until[backend] = time.monotonic() + DOWN_FOR_S
                last_error = f"{backend}: {exc}"
                continue
            return await self._relay(request, upstream, backend)
        return web.json_response({"error": f"no backend reachable ({last_error})"}, status=502)

    async def _relay(
        self, request: web.Request, upstream: aiohttp.ClientResponse, backend: str
    ) -> web.StreamResponse:
        async with upstream:
            minted = upstream.headers.get(SESSION_HEADER)
            if minted:
                self.remember(minted, backend)
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for key, value in upstream.headers.items():
                if key.lower() not in HOP:
                    response.headers.add(key, value)
            await response.prepare(request)
            with contextlib.suppress(aiohttp.ClientPayloadError, ConnectionResetError):
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
            with contextlib.suppress(ConnectionResetError):
                await response.write_eof()
            return response

    # -- lifecycle ---------------------------------------------------------------------------

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "backends": self.backends})

    async def start(self, host: str, port: int) -> web.AppRunner:
        self._client = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_S),
            auto_decompress=False,
        )
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_get("/lb/healthz", self.healthz)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        return runner

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


async def _main(listen: str, backends: list[str]) -> None:
    host, _, port = listen.rpartition(":")
    balancer = Balancer(backends)
    runner = await balancer.start(host or "127.0.0.1", int(port))
    print(f"balancer on http://{listen} -> {', '.join(backends)}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    await balancer.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--listen", default="127.0.0.1:8770", help="host:port to listen on")
    parser.add_argument("backends", nargs="+", help="backend base URLs (http://host:port)")
    args = parser.parse_args(argv)
    asyncio.run(_main(args.listen, args.backends))


if __name__ == "__main__":
    main()
