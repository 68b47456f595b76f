"""Issue 11, item 10: slow and idle clients cannot hold the gateway's connections and
descriptors: headers have a deadline, bodies have a deadline, and near the descriptor limit
new connections get a clear 503 instead of resets."""

from __future__ import annotations

import resource
import socket
import time

import httpx
import orjson
import pytest

from gwtest.attack import audit_records, closed_by_peer, slowloris, status_of
from gwtest.procs import gateway, stdio_upstream
from gwtest.raw import open_session

pytestmark = pytest.mark.integration


def _reply(sock: socket.socket, timeout: float = 30) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, OSError):
            break
        if not chunk:
            break
        data += chunk
    return data


def test_slowloris_connections_get_408_and_are_closed_while_fresh_sessions_work() -> None:
    config = {"listen": {"header_timeout_s": 1.0}, "upstreams": {"feat": stdio_upstream("feat")}}
    with gateway(config) as gw, httpx.Client(timeout=30) as client:
        port = int(gw.base.rsplit(":", 1)[1])
        with slowloris(port, 40) as socks:
            assert open_session(client, gw.url("feat"))
            replies = [_reply(s) for s in socks]
        assert all(status_of(r) == 408 for r in replies), replies[:3]
        body = orjson.loads(replies[0].split(b"\r\n\r\n", 1)[1])
        assert body["error"]["data"]["reason"] == "transport.header_timeout"
        assert open_session(client, gw.url("feat"))
        rejected = [r for r in audit_records(gw.audit_path) if r.get("reason") == "transport.header_timeout"]
        assert len(rejected) == 40


def test_headers_trickled_one_byte_at_a_time_still_hit_the_deadline() -> None:
    config = {"listen": {"header_timeout_s": 1.0}, "upstreams": {"feat": stdio_upstream("feat")}}
    with gateway(config) as gw:
        port = int(gw.base.rsplit(":", 1)[1])
        with slowloris(port, 1, partial=b"P") as (sock,):
            sock.settimeout(0.2)
            closed = False
            for byte in b"OST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200:
                try:
                    sock.sendall(bytes([byte]))
                except OSError:
                    closed = True
                    break
                try:
                    if sock.recv(4096):
                        closed = True
                        break
                except TimeoutError:
                    pass
            assert closed or closed_by_peer(sock, 30)


def test_a_body_sent_too_slowly_gets_408() -> None:
    config = {"listen": {"body_timeout_s": 1.0}, "upstreams": {"feat": stdio_upstream("feat")}}
    with gateway(config) as gw:
        port = int(gw.base.rsplit(":", 1)[1])
        head = (
            b"POST /servers/feat/mcp HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n"
            b"accept: application/json, text/event-stream\r\ncontent-length: 1000\r\n\r\n{"
        )
        with slowloris(port, 1, partial=head) as (sock,):
            reply = _reply(sock)
        assert status_of(reply) == 408
        assert (
            orjson.loads(reply.split(b"\r\n\r\n", 1)[1])["error"]["data"]["reason"]
            == "transport.body_timeout"
        )


def _low_nofile() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (160, 160))


def test_near_the_descriptor_limit_new_connections_get_503_not_resets() -> None:
    config = {
        "listen": {"header_timeout_s": 120.0, "fd_reserve": 40},
        "upstreams": {"feat": stdio_upstream("feat")},
    }
    with gateway(config, preexec_fn=_low_nofile) as gw, httpx.Client(timeout=30) as client:
        port = int(gw.base.rsplit(":", 1)[1])
        idle: list[socket.socket] = []
        try:
            statuses: list[int] = []
            for _ in range(200):  # more than the 160 descriptors the gateway has
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                idle.append(s)
                s.settimeout(0.05)
                try:
                    data = s.recv(4096)
                except TimeoutError:
                    continue
                statuses.append(status_of(data))
            assert statuses and set(statuses) == {503}
        finally:
            for s in idle:
                s.close()
        deadline = time.monotonic() + 30
        while True:  # the gateway notices the closed sockets on its next loop turns
            try:
                assert open_session(client, gw.url("feat"))
                break
            except (AssertionError, httpx.HTTPError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert gw.proc.poll() is None
        assert any(r.get("reason") == "server.fd_budget" for r in audit_records(gw.audit_path))
