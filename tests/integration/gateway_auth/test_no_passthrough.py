"""No token passthrough (MCP PASS-01): for every `credentials` mode, an HTTP upstream that
records everything it receives never sees the client's token, in any header or body, and
gets exactly the credentials configured for it instead."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gwauth_kit import Keys, auth_config, segments

from gwtest.client import sdk_session
from gwtest.procs import PYTHON, Gateway, free_port, gateway, http_upstream, stop, wait_http

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

RECORDER = Path(__file__).with_name("recording_server.py")
STATIC_TOKEN = "static-upstream-token-0123456789"
STATIC_KEY = "static-upstream-key-0123456789"


@contextlib.contextmanager
def recording_upstream(log: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [PYTHON, str(RECORDER), "--port", str(port), "--log", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/mcp", proc=proc)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        stop(proc)


def _credentials(mode: str, upstream: str, oidc_provider: Any) -> dict[str, Any]:
    if mode == "none":
        return {"mode": "none"}
    if mode == "bearer":
        return {"mode": "bearer", "token": "env:MCPW_TEST_UPSTREAM_TOKEN"}
    if mode == "api_key":
        return {"mode": "api_key", "header": "X-Api-Key", "value": "env:MCPW_TEST_UPSTREAM_KEY"}
    return {
        "mode": mode,
        "client_id": oidc_provider.gateway.client_id,
        "client_secret": "env:MCPW_TEST_GW_SECRET",
        "resource": upstream,
        "scope": ["mcp:tools"],
    }


def _records(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _header(record: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in record["headers"] if k.lower() == name]


async def _drive(gw: Gateway, client_token: str) -> None:
    """A real client session: initialize, list, call; every request carries the client token."""
    async with sdk_session(gw.url("rec"), authorization=f"Bearer {client_token}") as (s, _):
        assert [t.name for t in (await s.list_tools()).tools] == ["echo"]
        await s.call_tool("echo", {"text": "hello"})


@pytest.fixture
def secrets_env(oidc_provider: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The gateway process inherits these: secrets reach it only by reference.
    monkeypatch.setenv("MCPW_TEST_UPSTREAM_TOKEN", STATIC_TOKEN)
    monkeypatch.setenv("MCPW_TEST_UPSTREAM_KEY", STATIC_KEY)
    monkeypatch.setenv("MCPW_TEST_GW_SECRET", oidc_provider.gateway.client_secret)


@pytest.mark.parametrize("mode", ["none", "bearer", "api_key", "client_credentials", "token_exchange"])
async def test_upstream_never_sees_the_client_token(
    tmp_path: Path, oidc_provider: Any, keys: Keys, secrets_env: None, mode: str
) -> None:
    log = tmp_path / "upstream.jsonl"
    with recording_upstream(log) as upstream:
        config = {
            "auth": auth_config(oidc_provider, keys),
            "upstreams": {
                "rec": http_upstream(upstream, credentials=_credentials(mode, upstream, oidc_provider))
            },
        }
        with gateway(config) as gw:
            client_token = oidc_provider.authorization_code("alice", gw.url("rec"))["access_token"]
            await _drive(gw, client_token)
    records = _records(log)
    assert any("tools/call" in r["body"] for r in records)
    for record in records:
        seen = [v for _, v in record["headers"]] + [record["body"], record["query"]]
        assert not any(client_token in value for value in seen), f"client token leaked upstream in {mode}"
        assert not _header(record, "cookie") and not _header(record, "proxy-authorization")
    posts = [r for r in records if r["method"] == "POST"]
    authorizations = {a for r in posts for a in _header(r, "authorization")}
    if mode == "none":
        assert authorizations == set() and not any(_header(r, "x-api-key") for r in records)
    elif mode == "bearer":
        assert authorizations == {f"Bearer {STATIC_TOKEN}"}
    elif mode == "api_key":
        assert authorizations == set()
        assert {k for r in posts for k in _header(r, "x-api-key")} == {STATIC_KEY}
    else:
        assert len(authorizations) == 1
        upstream_claims = segments(authorizations.pop().removeprefix("Bearer "))[1]
        assert upstream_claims["aud"] == upstream
        if mode == "client_credentials":
            assert upstream_claims["sub"] == oidc_provider.gateway.client_id
        else:
            assert upstream_claims["sub"] == "alice"
            assert upstream_claims["act"] == {"sub": oidc_provider.gateway.client_id}


async def test_each_user_gets_their_own_exchanged_token(
    tmp_path: Path, oidc_provider: Any, keys: Keys, secrets_env: None
) -> None:
    log = tmp_path / "upstream.jsonl"
    with recording_upstream(log) as upstream:
        config = {
            "auth": auth_config(oidc_provider, keys),
            "upstreams": {
                "rec": http_upstream(
                    upstream, credentials=_credentials("token_exchange", upstream, oidc_provider)
                )
            },
        }
        with gateway(config) as gw:
            for user in ("alice", "bob"):
                await _drive(gw, oidc_provider.authorization_code(user, gw.url("rec"))["access_token"])
    subjects = {
        segments(a.removeprefix("Bearer "))[1]["sub"]
        for r in _records(log)
        for a in _header(r, "authorization")
    }
    assert subjects == {"alice", "bob"}


async def test_failed_token_exchange_fails_the_request_and_sends_nothing(
    tmp_path: Path, oidc_provider: Any, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCPW_TEST_GW_SECRET", "wrong-secret")
    log = tmp_path / "upstream.jsonl"
    with recording_upstream(log) as upstream:
        config = {
            "auth": auth_config(oidc_provider, keys),
            "upstreams": {
                "rec": http_upstream(
                    upstream, credentials=_credentials("token_exchange", upstream, oidc_provider)
                )
            },
        }
        with gateway(config) as gw:
            token = oidc_provider.authorization_code("alice", gw.url("rec"))["access_token"]
            with pytest.raises(Exception):  # noqa: B017 - the SDK raises its own error type
                await _drive(gw, token)
            reasons = {r.get("reason") for r in gw.audit()}
    # Only the fixture's readiness probe (a bare GET) reached the upstream: no MCP message did.
    assert [r for r in _records(log) if r["method"] != "GET" or r["body"]] == []
    assert "upstream.credentials" in reasons
