"""Faults across replicas: one replica killed mid-load, the shared store going away.

Real processes and real PostgreSQL/Redis (skipped, with the reason, where absent). The
store is taken away with TCP forwarders the test cuts, so the real servers keep running
for everyone else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from gwtest.cluster import cluster, store_section
from gwtest.procs import FIXTURES, http_server, http_upstream
from gwtest.raw import body_of, open_session, post
from gwtest.services import POSTGRES_URL, REDIS_URL, scratch_prefix, scratch_schema
from gwtest.tcpproxy import TcpProxy
from mcpwarden.audit.chains import verify_set

pytestmark = pytest.mark.integration

UP = "dict"


@pytest.fixture(scope="module")
def upstream() -> Iterator[dict[str, Any]]:
    with http_server(FIXTURES / "rugpull_server.py", "--profile", "rugpull") as (url, _proc):
        yield {UP: http_upstream(url, pinning="off", on_poisoning="off")}


def lookup(client: httpx.Client, url: str, sid: str, request_id: str) -> httpx.Response:
    body = {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": "lookup", "arguments": {"word": "replica"}},
    }
    return post(client, url, body, **{"mcp-session-id": sid})


class Load:
    """Clients calling through the balancer; a session that hits 404 is replaced."""

    def __init__(self, url: str, workers: int = 3) -> None:
        self.url = url
        self.done: list[tuple[str, str, float]] = []  # (session, request id, when)
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(workers)]

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)

    def count_since(self, when: float) -> int:
        with self._lock:
            return sum(1 for _, _, t in self.done if t > when)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            sid: str | None = None
            while not self._stop.is_set():
                try:
                    if sid is None:
                        sid = open_session(client, self.url)
                    request_id = uuid.uuid4().hex
                    resp = lookup(client, self.url, sid, request_id)
                except (httpx.HTTPError, AssertionError) as exc:
                    sid = None
                    with self._lock:
                        self.failures.append(repr(exc))
                    continue
                if resp.status_code == 404:
                    sid = None  # the owner went away: start again, as the spec tells clients to
                    continue
                if resp.status_code == 200 and "result" in body_of(resp):
                    with self._lock:
                        self.done.append((sid, request_id, time.monotonic()))
                else:
                    with self._lock:
                        self.failures.append(f"{resp.status_code} {resp.text[:200]}")


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_killed_replica_loses_no_audit_record_and_the_other_keeps_serving(upstream: dict[str, Any]) -> None:
    with cluster(upstream) as c:
        a, b = c.replicas
        with Load(c.url(UP)) as load:
            wait_for(lambda: len(load.done) >= 20, 120, "calls before the kill")
            os.killpg(a.proc.pid, signal.SIGKILL)
            a.proc.wait(10)
            killed_at = time.monotonic()
            wait_for(lambda: load.count_since(killed_at) >= 20, 120, "calls served after the kill")
        done = list(load.done)
        # Every answered call has its record in the file of the replica that served it: the
        # `request.start` written before the call is forwarded (audit before effect), and the
        # `request` outcome once it finished.
        recorded = {
            (r.get("session"), str(r.get("request_id")))
            for replica in (a, b)
            for r in replica.audit()
            if r["event"] in ("request", "request.start")
        }
        missing = [(s, i) for s, i, _ in done if (s, i) not in recorded]
        assert not missing, f"{len(missing)} answered calls have no audit record"
        after = {s for s, _, t in done if t > killed_at}
        b_sessions = {r.get("session") for r in b.audit() if r["event"] == "session.start"}
        assert after <= b_sessions, "after the kill only the surviving replica serves"
        result = verify_set([a.audit_path, b.audit_path])
        assert result.ok, result.summary()
        assert result.replicas == {str(a.audit_path): "a", str(b.audit_path): "b"}


@contextlib.contextmanager
def store_behind_proxies() -> Iterator[tuple[dict[str, Any], TcpProxy, TcpProxy]]:
    pg, rd = urlsplit(POSTGRES_URL), urlsplit(REDIS_URL)
    pg_proxy = TcpProxy(pg.hostname or "127.0.0.1", pg.port or 5432)
    redis_proxy = TcpProxy(rd.hostname or "127.0.0.1", rd.port or 6379)
    try:
        with scratch_schema() as schema, scratch_prefix() as prefix:
            store = store_section(schema, prefix, timeout_s=1.0)
            store["url"] = POSTGRES_URL.replace(pg.netloc, f"127.0.0.1:{pg_proxy.port}")
            store["redis_url"] = REDIS_URL.replace(rd.netloc, f"127.0.0.1:{redis_proxy.port}")
            yield store, pg_proxy, redis_proxy
    finally:
        pg_proxy.close()
        redis_proxy.close()


def test_store_down_makes_calls_fail_closed_with_a_clear_error(upstream: dict[str, Any]) -> None:
    with (
        store_behind_proxies() as (store, pg_proxy, redis_proxy),
        cluster(upstream, replicas=1, store=store) as c,
    ):
        (r,) = c.replicas
        with httpx.Client(timeout=30) as client:
            sid = open_session(client, r.url(UP))
            assert lookup(client, r.url(UP), sid, "before").status_code == 200
            pg_proxy.cut()
            redis_proxy.cut()

            def refused() -> bool:
                resp = lookup(client, r.url(UP), sid, uuid.uuid4().hex)
                return resp.status_code == 503

            wait_for(refused, 30, "the session to be refused")
            resp = lookup(client, r.url(UP), sid, "after")
            assert resp.json()["error"]["data"]["reason"] == "store.unavailable"
            assert "unreachable" in resp.json()["error"]["message"]
            fresh = post(
                client,
                r.url(UP),
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": "2025-11-25",
                        "capabilities": {},
                        "clientInfo": {"name": "t", "version": "0"},
                    },
                },
            )
            assert fresh.status_code == 503 and fresh.json()["error"]["data"]["reason"] == "store.unavailable"
            ready = client.get(f"{r.base}/readyz")
            assert ready.status_code == 503
            assert ready.json()["postgres"] == "unreachable" and ready.json()["redis"] == "unreachable"
        rejected = [x for x in r.audit() if x.get("reason") == "store.unavailable"]
        assert rejected, "each refusal is audited"


def reason_of(resp: httpx.Response) -> str:
    """`ok` for a result, else the refusal's reason code (HTTP rejection or JSON-RPC error)."""
    body = body_of(resp)
    return "ok" if "result" in body else str(body["error"]["data"]["reason"])


def store_up(metrics_base: str) -> dict[str, float]:
    text = httpx.get(f"{metrics_base}/metrics", timeout=30).text
    return {
        line.split('"')[1]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("mcpwarden_store_up{")
    }


def test_redis_down_fails_calls_closed_says_so_and_recovers_by_itself(upstream: dict[str, Any]) -> None:
    with (
        store_behind_proxies() as (store, _pg_proxy, redis_proxy),
        cluster(
            upstream,
            replicas=1,
            store=store,
            operations=True,
            limits={"per_tool": {"rate": 1000, "burst": 1000}},
        ) as c,
    ):
        (r,) = c.replicas
        with httpx.Client(timeout=30) as client:
            sid = open_session(client, r.url(UP))
            assert reason_of(lookup(client, r.url(UP), sid, "before")) == "ok"
            assert store_up(r.metrics_base) == {"postgres": 1.0, "redis": 1.0}
            redis_proxy.cut()

            wait_for(
                lambda: reason_of(lookup(client, r.url(UP), sid, uuid.uuid4().hex)) == "store.unavailable",
                30,
                "calls to be refused",
            )
            refused = body_of(lookup(client, r.url(UP), sid, "during"))
            assert "Redis unreachable" in refused["error"]["message"]
            ready = client.get(f"{r.base}/readyz")
            assert ready.status_code == 503
            assert ready.json()["down"] == ["redis"] and ready.json()["redis"] == "unreachable"
            assert store_up(r.metrics_base) == {"postgres": 1.0, "redis": 0.0}

            redis_proxy.restore()
            wait_for(
                lambda: reason_of(lookup(client, r.url(UP), sid, uuid.uuid4().hex)) == "ok",
                30,
                "calls to be served again",
            )
            wait_for(lambda: client.get(f"{r.base}/readyz").status_code == 200, 30, "ready again")
            assert store_up(r.metrics_base) == {"postgres": 1.0, "redis": 1.0}
        refusals = [x for x in r.audit() if x.get("reason") == "store.unavailable"]
        assert any(x.get("request_id") == "during" for x in refusals), "each refusal is audited"


def test_a_session_whose_replica_died_gets_owner_gone_and_a_new_session_works(
    upstream: dict[str, Any],
) -> None:
    with cluster(upstream) as c:
        a, b = c.replicas
        with httpx.Client(timeout=30) as client:
            sid = open_session(client, a.url(UP))
            assert reason_of(lookup(client, a.url(UP), sid, "before")) == "ok"
            os.killpg(a.proc.pid, signal.SIGKILL)
            a.proc.wait(10)
            # B answers 404 for the stray session: naming A while A's presence key lives,
            # `session.owner_gone` once it expired (10 s after A's last heartbeat).
            wait_for(
                lambda: reason_of(lookup(client, b.url(UP), sid, uuid.uuid4().hex)) == "session.owner_gone",
                60,
                "the owner to be reported gone",
            )
            # The balancer never saw `sid` minted: whichever backend it tries, B answers.
            stray = lookup(client, c.url(UP), sid, "via-balancer")
            assert stray.status_code == 404
            assert stray.json()["error"]["data"]["reason"] == "session.owner_gone"
            fresh = open_session(client, c.url(UP))
            assert reason_of(lookup(client, c.url(UP), fresh, "after")) == "ok"
