"""Issue 11, item 10: a flood of idle GET event streams is capped per session and per
principal, refused ones are closed at once, and a fresh session keeps working even with the
gateway's descriptors limited."""

from __future__ import annotations

import resource
import time
from contextlib import ExitStack

import httpx
import orjson
import pytest

from gwtest.attack import call, idle_streams, status_of
from gwtest.procs import gateway, stdio_upstream
from gwtest.raw import open_session

pytestmark = pytest.mark.integration


def _nofile_256() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


def _reason(head: bytes) -> str:
    return str(orjson.loads(head.split(b"\r\n\r\n", 1)[1])["error"]["data"]["reason"])


def test_flood_of_idle_streams_never_stops_a_fresh_session() -> None:
    config = {
        "sessions": {"max_streams_per_session": 2, "max_streams_per_principal": 24},
        "upstreams": {"feat": stdio_upstream("feat")},
    }
    with gateway(config, preexec_fn=_nofile_256) as gw, httpx.Client(timeout=30) as client:
        port = int(gw.base.rsplit(":", 1)[1])
        url = gw.url("feat")
        sids = [open_session(client, url) for _ in range(6)]
        with ExitStack() as stack:
            floods = [stack.enter_context(idle_streams(port, "/servers/feat/mcp", sid, 50)) for sid in sids]
            statuses = [status_of(head) for flood in floods for _, head in flood]
            assert statuses.count(200) == 12  # two per session
            assert statuses.count(429) == 300 - 12
            refused = next(head for flood in floods for _, head in flood if status_of(head) == 429)
            assert _reason(refused) == "stream.limit"
            assert b"connection: close" in refused.lower()
            # 300 streams against 256 descriptors: only the refusals' prompt closing keeps room.
            fresh = open_session(client, url)
            reply = call(client, url, fresh, "echo", {"text": "still serving"})
            assert reply["result"]["content"][0]["text"] == "feat: still serving"
        assert gw.proc.poll() is None


def test_streams_of_one_principal_are_capped_across_its_sessions() -> None:
    config = {
        "sessions": {"max_streams_per_session": 2, "max_streams_per_principal": 5},
        "upstreams": {"feat": stdio_upstream("feat")},
    }
    with gateway(config) as gw, httpx.Client(timeout=30) as client:
        port = int(gw.base.rsplit(":", 1)[1])
        sids = [open_session(client, gw.url("feat")) for _ in range(3)]
        with ExitStack() as stack:
            heads = [
                head
                for sid in sids
                for _, head in stack.enter_context(idle_streams(port, "/servers/feat/mcp", sid, 2))
            ]
            assert [status_of(h) for h in heads].count(200) == 5
            assert _reason(heads[-1]) == "stream.principal_limit"
        # Closed streams give their slots back, as soon as the gateway sees the disconnect.
        deadline = time.monotonic() + 30
        while True:
            with idle_streams(port, "/servers/feat/mcp", sids[0], 1) as again:
                if status_of(again[0][1]) == 200:
                    break
            assert time.monotonic() < deadline, "stream slots were not given back"
            time.sleep(0.2)
