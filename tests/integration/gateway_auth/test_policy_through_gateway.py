"""Least-privilege policy through the gateway, with roles from real validated tokens.

alice holds the roles `mcp.admin` and `mcp.user`, bob only `mcp.user` (set by the OIDC
provider fixture in the token's `roles` claim). Each sees and may call only what the
policy grants their roles. Every method is under policy (issue 11, item 3): completions,
subscriptions and methods the policy does not know are denied unless granted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gwauth_kit import Keys, auth_config, bearer, claims_for
from mcp.shared.exceptions import MCPError

from gwtest.client import sdk_session
from gwtest.procs import Gateway, gateway, stdio_upstream
from gwtest.raw import body_of, init_body, open_session, post

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

POLICY = """
version: 1
roles:
  claims:
    - path: roles
rules:
  - id: users-basic-tools
    roles: [mcp.user]
    upstreams: [feat]
    tools: [echo, add]
    arguments:
      text: {max_length: 20, optional: true}
  - id: admins-everything
    roles: [mcp.admin]
    upstreams: [feat]
    tools: ["*"]
    prompts: ["*"]
    resources: ["note://**"]
  - id: admins-vendor
    roles: [mcp.admin]
    upstreams: [feat]
    methods: ["vendor/*"]
"""


@pytest.fixture(scope="module")
def pgw(oidc_provider: Any, keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    policy = tmp_path_factory.mktemp("policy") / "policy.yaml"
    policy.write_text(POLICY)
    config = {
        "auth": auth_config(oidc_provider, keys),
        "policy": str(policy),
        "upstreams": {"feat": stdio_upstream("feat")},
    }
    with gateway(config) as g:
        yield g


def _token(oidc_provider: Any, gw: Gateway, user: str) -> str:
    return str(oidc_provider.authorization_code(user, gw.url("feat"))["access_token"])


async def test_user_sees_only_the_tools_granted_to_their_role(pgw: Gateway, oidc_provider: Any) -> None:
    async with sdk_session(pgw.url("feat"), authorization=f"Bearer {_token(oidc_provider, pgw, 'bob')}") as (
        s,
        _,
    ):
        assert {t.name for t in (await s.list_tools()).tools} == {"echo", "add"}
        assert (await s.list_prompts()).prompts == []


async def test_admin_sees_every_tool_and_prompt(pgw: Gateway, oidc_provider: Any) -> None:
    async with sdk_session(
        pgw.url("feat"), authorization=f"Bearer {_token(oidc_provider, pgw, 'alice')}"
    ) as (
        s,
        _,
    ):
        names = {t.name for t in (await s.list_tools()).tools}
        assert {"echo", "add", "whoami", "big"} <= names
        assert [p.name for p in (await s.list_prompts()).prompts] == ["greet"]


async def test_user_calling_an_ungranted_tool_is_denied_and_audited(pgw: Gateway, oidc_provider: Any) -> None:
    async with sdk_session(pgw.url("feat"), authorization=f"Bearer {_token(oidc_provider, pgw, 'bob')}") as (
        s,
        _,
    ):
        with pytest.raises(MCPError) as info:
            await s.call_tool("whoami", {})
    assert info.value.error.data["reason"] == "policy.no_rule"  # type: ignore[index]
    denials = [r for r in pgw.audit() if r.get("guard") == "policy" and r.get("decision") == "deny"]
    assert denials[-1]["tool"] == "whoami"
    assert denials[-1]["principal"] == f"{oidc_provider.issuer}|bob|mcp-public-client"


async def test_argument_constraint_applies_to_the_user_role(pgw: Gateway, oidc_provider: Any) -> None:
    async with sdk_session(pgw.url("feat"), authorization=f"Bearer {_token(oidc_provider, pgw, 'bob')}") as (
        s,
        _,
    ):
        assert (await s.call_tool("echo", {"text": "short"})).is_error is False
        with pytest.raises(MCPError) as info:
            await s.call_tool("echo", {"text": "x" * 50})
    assert info.value.error.data["reason"] == "policy.argument"  # type: ignore[index]


async def test_admin_may_call_what_the_user_may_not(pgw: Gateway, oidc_provider: Any) -> None:
    async with sdk_session(
        pgw.url("feat"), authorization=f"Bearer {_token(oidc_provider, pgw, 'alice')}"
    ) as (
        s,
        _,
    ):
        result = await s.call_tool("whoami", {})
    assert result.is_error is False


def test_renewed_token_with_fewer_roles_takes_effect_in_the_same_session(
    pgw: Gateway, oidc_provider: Any, keys: Keys
) -> None:
    with httpx.Client(timeout=20) as client:
        client.headers.update(bearer(_token(oidc_provider, pgw, "bob")))
        sid = open_session(client, pgw.url("feat"))
        session = {"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}
        listing = {"jsonrpc": "2.0", "id": 5, "method": "tools/list"}
        before = body_of(post(client, pgw.url("feat"), listing, **session))["result"]["tools"]
        # Same principal (issuer, subject, client), but the renewed token lost the role.
        renewed = keys.sign(
            claims_for(
                oidc_provider.issuer, pgw.url("feat"), sub="bob", client_id="mcp-public-client", roles=[]
            )
        )
        client.headers.update(bearer(renewed))
        after = body_of(post(client, pgw.url("feat"), {**listing, "id": 6}, **session))
    # With no rule left for the upstream, even listing it is refused.
    assert {t["name"] for t in before} == {"echo", "add"}
    assert after["error"]["data"]["reason"] == "policy.no_rule"


PROMPT_COMPLETION = {
    "ref": {"type": "ref/prompt", "name": "greet"},
    "argument": {"name": "style", "value": "p"},
}
TEMPLATE_COMPLETION = {
    "ref": {"type": "ref/resource", "uri": "note://items/{item}"},
    "argument": {"name": "item", "value": "a"},
}
# (method, params) that a caller with no grant for them must not get to the upstream.
UNGRANTED = [
    ("completion/complete", PROMPT_COMPLETION),
    ("completion/complete", TEMPLATE_COMPLETION),
    ("resources/subscribe", {"uri": "note://static"}),
    ("resources/unsubscribe", {"uri": "note://static"}),
    ("vendor/export", {}),
]
UNGRANTED_IDS = ["prompt-completion", "template-completion", "subscribe", "unsubscribe", "vendor-method"]


def _call_as(
    pgw: Gateway, oidc_provider: Any, user: str, method: str, params: dict[str, Any]
) -> dict[str, Any]:
    with httpx.Client(timeout=20) as client:
        client.headers.update(bearer(_token(oidc_provider, pgw, user)))
        sid = open_session(client, pgw.url("feat"))
        headers = {"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}
        body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": params}
        answer: dict[str, Any] = body_of(post(client, pgw.url("feat"), body, **headers))
        return answer


@pytest.mark.parametrize(("method", "params"), UNGRANTED, ids=UNGRANTED_IDS)
def test_user_without_grant_is_denied_methods_beyond_calls(
    pgw: Gateway, oidc_provider: Any, method: str, params: dict[str, Any]
) -> None:
    answer = _call_as(pgw, oidc_provider, "bob", method, params)
    assert answer["error"]["code"] == -32003
    assert answer["error"]["data"]["reason"] == "policy.no_rule"
    assert answer["error"]["data"]["guard"] == "policy"
    denials = [
        r
        for r in pgw.audit()
        if r.get("guard") == "policy" and r.get("decision") == "deny" and r.get("method") == method
    ]
    assert denials and denials[-1]["principal"] == f"{oidc_provider.issuer}|bob|mcp-public-client"


def test_granted_caller_completes_prompt_arguments(pgw: Gateway, oidc_provider: Any) -> None:
    answer = _call_as(pgw, oidc_provider, "alice", "completion/complete", PROMPT_COMPLETION)
    assert "result" in answer and isinstance(answer["result"]["completion"]["values"], list)


def test_granted_caller_completes_template_arguments(pgw: Gateway, oidc_provider: Any) -> None:
    answer = _call_as(pgw, oidc_provider, "alice", "completion/complete", TEMPLATE_COMPLETION)
    assert "result" in answer and isinstance(answer["result"]["completion"]["values"], list)


def test_granted_caller_subscribes_to_a_readable_resource(pgw: Gateway, oidc_provider: Any) -> None:
    answer = _call_as(pgw, oidc_provider, "alice", "resources/subscribe", {"uri": "note://static"})
    assert answer.get("result") == {}


def test_granted_vendor_method_reaches_the_upstream(pgw: Gateway, oidc_provider: Any) -> None:
    answer = _call_as(pgw, oidc_provider, "alice", "vendor/export", {})
    # The features server does not know the method: its own error (the SDK rejects the
    # request as invalid params) proves the call got through the gateway.
    assert answer["error"]["code"] in (-32601, -32602), answer
    assert "reason" not in (answer["error"].get("data") or {}), answer
    assert not [
        r
        for r in pgw.audit()
        if r.get("guard") == "policy"
        and r.get("method") == "vendor/export"
        and r.get("decision") == "deny"
        and "alice" in str(r.get("principal"))
    ]


def test_caller_without_any_rule_for_the_upstream_cannot_open_a_session(
    pgw: Gateway, oidc_provider: Any, keys: Keys
) -> None:
    claims = claims_for(oidc_provider.issuer, pgw.url("feat"), sub="carol", client_id="mcp-public-client")
    with httpx.Client(timeout=20) as client:
        client.headers.update(bearer(keys.sign({**claims, "roles": []})))
        resp = post(client, pgw.url("feat"), init_body())
    assert "mcp-session-id" not in resp.headers
    answer = body_of(resp)
    assert answer["error"]["code"] == -32003
    assert answer["error"]["data"]["reason"] == "policy.no_rule"
    denials = [r for r in pgw.audit() if r.get("method") == "initialize" and r.get("decision") == "deny"]
    assert any("carol" in str(r.get("principal")) for r in denials)


@pytest.fixture(scope="module")
def agw(oidc_provider: Any, keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The aggregated endpoint over `feat` (granted by the policy) and `other` (no rule at all)."""
    policy = tmp_path_factory.mktemp("policy") / "policy.yaml"
    policy.write_text(POLICY)
    config = {
        "auth": auth_config(oidc_provider, keys),
        "policy": str(policy),
        "upstreams": {"feat": stdio_upstream("feat"), "other": stdio_upstream("other")},
    }
    with gateway(config) as g:
        yield g


def test_aggregated_session_connects_only_the_upstreams_the_caller_may_reach(
    agw: Gateway, oidc_provider: Any
) -> None:
    token = str(oidc_provider.authorization_code("bob", agw.url())["access_token"])
    with httpx.Client(timeout=20) as client:
        client.headers.update(bearer(token))
        sid = open_session(client, agw.url())
        headers = {"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}
        list_tools = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
        listing = body_of(post(client, agw.url(), list_tools, **headers))
    names = {t["name"] for t in listing["result"]["tools"]}
    assert names and all(n.startswith("feat") for n in names)
    records = [r for r in agw.audit() if r.get("session") == sid]
    assert {r["upstream"] for r in records if r.get("event") == "upstream.start"} == {"feat"}
    refused = [r for r in records if r.get("method") == "initialize" and r.get("decision") == "deny"]
    assert [(r["upstream"], r["reason"]) for r in refused] == [("other", "policy.no_rule")]


def test_aggregated_logging_level_is_denied_once_no_upstream_is_reachable(
    agw: Gateway, oidc_provider: Any, keys: Keys
) -> None:
    with httpx.Client(timeout=20) as client:
        client.headers.update(bearer(str(oidc_provider.authorization_code("bob", agw.url())["access_token"])))
        sid = open_session(client, agw.url())
        headers = {"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}
        set_level = {"jsonrpc": "2.0", "id": 4, "method": "logging/setLevel", "params": {"level": "debug"}}
        granted = body_of(post(client, agw.url(), set_level, **headers))
        claims = claims_for(oidc_provider.issuer, agw.url(), sub="bob", client_id="mcp-public-client")
        client.headers.update(bearer(keys.sign({**claims, "roles": []})))
        denied = body_of(post(client, agw.url(), {**set_level, "id": 5}, **headers))
    assert granted["result"] == {}
    assert denied["error"]["data"]["reason"] == "policy.no_rule"
