"""Issue 11, item 8: one principal cannot take every session or every stdio process; the
others keep getting in, and the greedy one gets a clear error naming the quota."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from gwauth_kit import Keys, auth_config, bearer, claims_for

from gwtest.procs import Gateway, gateway, stdio_upstream
from gwtest.raw import init_body, open_session, post

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fair_gw(oidc_provider: Any, keys: Keys) -> Iterator[Gateway]:
    config = {
        "auth": auth_config(oidc_provider, keys, required_scopes=["mcp:tools"]),
        "sessions": {
            "max_stdio_children_per_principal": 2,
            "max_stdio_children": 4,
        },
        "upstreams": {
            "feat": stdio_upstream("feat"),
            "http-like": stdio_upstream("other"),
        },
    }
    with gateway(config) as g:
        yield g


@pytest.fixture(scope="module")
def quota_gw(oidc_provider: Any, keys: Keys) -> Iterator[Gateway]:
    config = {
        "auth": auth_config(oidc_provider, keys, required_scopes=["mcp:tools"]),
        "sessions": {"max_sessions_per_principal": 3},
        "upstreams": {"feat": stdio_upstream("feat")},
    }
    with gateway(config) as g:
        yield g


@pytest.fixture(scope="module")
def token_for(oidc_provider: Any, keys: Keys) -> Any:
    """Tokens for any number of distinct users, signed by a key the gateway trusts."""

    def make(user: str, audience: str) -> str:
        return keys.sign(claims_for(oidc_provider.issuer, audience, sub=user))

    return make


def _client(gw: Gateway, token_for: Any, user: str, upstream: str | None = "feat") -> httpx.Client:
    client = httpx.Client(timeout=30)
    client.headers.update(bearer(token_for(user, gw.url(upstream))))
    return client


def _delete(client: httpx.Client, url: str, sid: str) -> None:
    assert client.delete(url, headers={"mcp-session-id": sid}).status_code == 200


def test_stdio_process_quota_refuses_a_third_process_for_one_principal_with_a_clear_error(
    fair_gw: Gateway, token_for: Any
) -> None:
    url = fair_gw.url("feat")
    with ExitStack() as stack:
        mallory = stack.enter_context(_client(fair_gw, token_for, "mallory"))
        sids = [open_session(mallory, url) for _ in range(2)]
        third = post(mallory, url, init_body())
        error = third.json()["error"]
        assert error["data"]["reason"] == "upstream.stdio_quota"
        assert "max_stdio_children_per_principal" in error["message"]
        alice = stack.enter_context(_client(fair_gw, token_for, "alice"))
        alice_sid = open_session(alice, url)  # others are not locked out
        _delete(alice, url, alice_sid)
        _delete(mallory, url, sids[0])
        sids[0] = open_session(mallory, url)  # a freed slot can be used again
        for sid in sids:
            _delete(mallory, url, sid)
    assert any(r.get("reason") == "upstream.stdio_quota" for r in fair_gw.audit())


def test_global_stdio_cap_gives_a_clear_error_once_every_process_is_taken(
    fair_gw: Gateway, token_for: Any
) -> None:
    url = fair_gw.url("feat")
    with ExitStack() as stack:
        users = [stack.enter_context(_client(fair_gw, token_for, f"user{i}")) for i in range(3)]
        opened = [(users[0], open_session(users[0], url)), (users[0], open_session(users[0], url))]
        opened += [(users[1], open_session(users[1], url)), (users[1], open_session(users[1], url))]
        refused = post(users[2], url, init_body()).json()["error"]
        assert refused["data"]["reason"] == "upstream.stdio_limit"
        assert "max_stdio_children" in refused["message"]
        for client, sid in opened:
            _delete(client, url, sid)


def test_session_quota_stops_one_principal_and_spares_the_others(quota_gw: Gateway, token_for: Any) -> None:
    url = quota_gw.url("feat")
    with ExitStack() as stack:
        greedy = stack.enter_context(_client(quota_gw, token_for, "greedy"))
        sids = [open_session(greedy, url) for _ in range(3)]
        refused = post(greedy, url, init_body())
        assert refused.status_code == 429
        assert refused.json()["error"]["data"]["reason"] == "session.quota"
        assert "max_sessions_per_principal" in refused.json()["error"]["message"]
        bob = stack.enter_context(_client(quota_gw, token_for, "bob"))
        _delete(bob, url, open_session(bob, url))
        _delete(greedy, url, sids[0])
        sids[0] = open_session(greedy, url)  # a freed slot is usable again
        for sid in sids:
            _delete(greedy, url, sid)
    assert any(r.get("reason") == "session.quota" for r in quota_gw.audit())
