"""Calls to an HTTP upstream reuse pooled connections (issue 17).

The SDK server answers each POST with a short event stream; the gateway used to release the
connection as soon as the response event arrived, with the stream's end unread, which makes
aiohttp close it: one new TCP connection per call, each left in TIME_WAIT. The kernel's socket
table (Linux /proc/net/tcp) shows how many connections towards the upstream's port were opened.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from gwtest.procs import FEATURES_SERVER, gateway, http_server, http_upstream
from gwtest.raw import body_of, open_session, post

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp"),
]

CALLS = 40


def connections_to(port: int) -> int:
    """Sockets (any state, TIME_WAIT included) whose remote end is 127.0.0.1:`port`."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            remote = line.split()[2]
            if int(remote.rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def test_sequential_calls_reuse_pooled_upstream_connections() -> None:
    with http_server(FEATURES_SERVER, "--name", "keep") as (url, _):
        port = int(urlsplit(url).port or 80)
        with gateway({"upstreams": {"keep": http_upstream(url)}}) as gw, httpx.Client(timeout=60) as client:
            sid = open_session(client, gw.url("keep"))
            before = connections_to(port)
            for i in range(CALLS):
                body = {
                    "jsonrpc": "2.0",
                    "id": 100 + i,
                    "method": "tools/call",
                    "params": {"name": "echo", "arguments": {"text": f"call {i}"}},
                }
                reply = body_of(post(client, gw.url("keep"), body, **{"mcp-session-id": sid}))
                assert reply["result"]["content"][0]["text"].endswith(f"call {i}")
            opened = connections_to(port) - before
    # The calls share the pooled connection(s) the session already had; one per call was the bug.
    assert opened <= 4, f"{opened} new connections for {CALLS} calls"
