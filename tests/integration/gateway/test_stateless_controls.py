"""The gateway's controls apply to 2026-07-28 (stateless) requests as they do to session-era ones:
Host/Origin checks, tool policy (hiding and denying), result caps, and the audit trail of each."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gwtest.procs import Gateway, gateway, stdio_upstream
from gwtest.raw import body_of, stateless_post

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    upstream = stdio_upstream(
        "feat", tools={"allow": ["echo", "big", "add"], "deny": ["add"]}, max_result_bytes=2000
    )
    with gateway({"upstreams": {"feat": upstream}}) as g:
        yield g


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


def test_foreign_origin_is_refused_before_the_stateless_path(gw: Gateway, client: httpx.Client) -> None:
    r = stateless_post(client, gw.url("feat"), "tools/list", origin="http://evil.example.com")
    assert r.status_code == 403 and body_of(r)["error"]["data"]["reason"] == "transport.bad_origin"


def test_rebinding_host_is_refused_before_the_stateless_path(gw: Gateway, client: httpx.Client) -> None:
    r = stateless_post(client, gw.url("feat"), "tools/list", host="attacker.example.com")
    assert r.status_code == 421


def test_tools_outside_the_allow_list_are_hidden_from_stateless_lists(
    gw: Gateway, client: httpx.Client
) -> None:
    tools = body_of(stateless_post(client, gw.url("feat"), "tools/list"))["result"]["tools"]
    assert {t["name"] for t in tools} == {"echo", "big"}


def test_denied_tool_is_denied_and_audited_for_a_stateless_client(gw: Gateway, client: httpx.Client) -> None:
    r = stateless_post(
        client, gw.url("feat"), "tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}, id_="d"
    )
    err = body_of(r)["error"]
    assert body_of(r)["id"] == "d" and err["code"] == -32003
    assert err["data"] == {"reason": "tool.denied", "guard": "tool_filter"}
    assert any(rec.get("guard") == "tool_filter" and rec.get("decision") == "deny" for rec in gw.audit())


def test_result_cap_applies_to_a_stateless_call(gw: Gateway, client: httpx.Client) -> None:
    r = stateless_post(client, gw.url("feat"), "tools/call", {"name": "big", "arguments": {"size": 5000}})
    assert body_of(r)["error"]["data"]["reason"] == "result.too_large"
