"""Least-privilege policy through the gateway, with roles from real validated tokens.

alice holds the roles `mcp.admin` and `mcp.user`, bob only `mcp.user` (set by the OIDC
provider fixture in the token's `roles` claim). Each sees and may call only what the
policy grants their roles.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gwauth_kit import Keys, auth_config, bearer, claims_for
from mcp.shared.exceptions import McpError

from gwtest.client import sdk_session
from gwtest.procs import Gateway, gateway, stdio_upstream
from gwtest.raw import body_of, open_session, post

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
        with pytest.raises(McpError) as info:
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
        assert (await s.call_tool("echo", {"text": "short"})).isError is False
        with pytest.raises(McpError) as info:
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
    assert result.isError is False


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
        after = body_of(post(client, pgw.url("feat"), {**listing, "id": 6}, **session))["result"]["tools"]
    assert {t["name"] for t in before} == {"echo", "add"} and after == []
