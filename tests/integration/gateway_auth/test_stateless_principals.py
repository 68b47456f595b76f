"""Stateless (2026-07-28) clients behind authentication: each request is authenticated, each
principal gets its own gateway-side session, and a state handle minted for one principal is
refused (and audited) when another presents it, in either era."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gwauth_kit import Keys, auth_config, bearer, claims_for, reason_of

from gwtest.procs import FEATURES_SERVER, Gateway, gateway, http_server, http_upstream
from gwtest.raw import body_of, open_session, post, stateless_post

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gw(oidc_provider: Any, keys: Keys) -> Iterator[Gateway]:
    with http_server(FEATURES_SERVER) as (url, _):
        config = {
            "auth": auth_config(oidc_provider, keys),
            "upstreams": {"shop": http_upstream(url, state_handles=["cart_id"])},
        }
        with gateway(config) as g:
            yield g


def _client(gw: Gateway, keys: Keys, oidc_provider: Any, user: str) -> httpx.Client:
    token = keys.sign(claims_for(oidc_provider.issuer, gw.url("shop"), sub=user))
    return httpx.Client(timeout=30, headers=bearer(token))


@pytest.fixture()
def alice(gw: Gateway, keys: Keys, oidc_provider: Any) -> Iterator[httpx.Client]:
    with _client(gw, keys, oidc_provider, "alice") as c:
        yield c


@pytest.fixture()
def bob(gw: Gateway, keys: Keys, oidc_provider: Any) -> Iterator[httpx.Client]:
    with _client(gw, keys, oidc_provider, "bob") as c:
        yield c


def _cart(client: httpx.Client, gw: Gateway) -> str:
    r = stateless_post(client, gw.url("shop"), "tools/call", {"name": "open_cart", "arguments": {}})
    return str(body_of(r)["result"]["structuredContent"]["cart_id"])


def _add(client: httpx.Client, gw: Gateway, cart: str) -> httpx.Response:
    params = {"name": "add_item", "arguments": {"cart_id": cart, "item": "book"}}
    return stateless_post(client, gw.url("shop"), "tools/call", params)


def test_stateless_request_without_a_token_is_refused(gw: Gateway) -> None:
    with httpx.Client(timeout=30) as anonymous:
        r = stateless_post(anonymous, gw.url("shop"), "server/discover")
    assert r.status_code == 401


def test_a_handle_is_usable_by_the_principal_that_received_it(gw: Gateway, alice: httpx.Client) -> None:
    cart = _cart(alice, gw)
    assert "book" in body_of(_add(alice, gw, cart))["result"]["content"][0]["text"]


def test_a_handle_presented_by_another_principal_is_refused_and_audited(
    gw: Gateway, alice: httpx.Client, bob: httpx.Client
) -> None:
    cart = _cart(alice, gw)
    err = body_of(_add(bob, gw, cart))["error"]
    assert err["code"] == -32003 and err["data"]["reason"] == "state_handle.foreign"
    denials = [
        r for r in gw.audit() if r.get("reason") == "state_handle.foreign" and r.get("decision") == "deny"
    ]
    assert denials and "bob" in denials[-1]["principal"]


def test_a_session_era_client_cannot_use_a_stateless_principals_handle(
    gw: Gateway, alice: httpx.Client, bob: httpx.Client
) -> None:
    cart = _cart(alice, gw)
    sid = open_session(bob, gw.url("shop"))
    body = {"jsonrpc": "2.0", "id": 3, "method": "tools/call"}
    body["params"] = {"name": "add_item", "arguments": {"cart_id": cart, "item": "x"}}
    r = post(bob, gw.url("shop"), body, **{"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"})
    assert body_of(r)["error"]["data"]["reason"] == "state_handle.foreign"


def test_each_principal_runs_on_its_own_gateway_side_session(
    gw: Gateway, alice: httpx.Client, bob: httpx.Client
) -> None:
    for client in (alice, bob):
        assert stateless_post(client, gw.url("shop"), "tools/list").status_code == 200
    sessions: dict[str, set[str]] = {}
    for rec in gw.audit():
        if rec.get("event") == "request" and rec.get("method") == "tools/list":
            sessions.setdefault(str(rec.get("principal")), set()).add(str(rec.get("session")))
    alice_sessions = next(v for k, v in sessions.items() if "alice" in k)
    bob_sessions = next(v for k, v in sessions.items() if "bob" in k)
    assert alice_sessions and bob_sessions and not alice_sessions & bob_sessions


def test_forged_token_for_the_stateless_path_gets_the_same_401(gw: Gateway, keys: Keys) -> None:
    token = keys.sign(claims_for("https://evil-idp.example.test", gw.url("shop")))
    with httpx.Client(timeout=30, headers=bearer(token)) as c:
        r = stateless_post(c, gw.url("shop"), "tools/list")
    assert r.status_code == 401 and reason_of(r)
