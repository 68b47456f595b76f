"""The two built-in guards, seen from a real client: denials become JSON-RPC errors naming
the guard and the reason, hidden tools vanish from tools/list, and each outcome is audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mcp.shared.exceptions import MCPError

from gwtest.client import sdk_session
from gwtest.procs import Gateway, gateway, stdio_upstream

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    config = {
        "upstreams": {
            "feat": stdio_upstream(
                "feat", tools={"allow": ["echo", "big", "add"], "deny": ["add"]}, max_result_bytes=2000
            ),
        }
    }
    with gateway(config) as g:
        yield g


async def test_tools_outside_the_allow_list_are_hidden(gw: Gateway) -> None:
    async with sdk_session(gw.url("feat")) as (s, _):
        assert {t.name for t in (await s.list_tools()).tools} == {"echo", "big"}


async def test_denied_tool_call_is_a_json_rpc_error_naming_guard_and_reason(gw: Gateway) -> None:
    async with sdk_session(gw.url("feat")) as (s, _):
        with pytest.raises(MCPError) as info:
            await s.call_tool("add", {"a": 1, "b": 2})
    err = info.value.error
    assert err.code == -32003
    assert err.data == {"reason": "tool.denied", "guard": "tool_filter"}
    denials = [r for r in gw.audit() if r.get("guard") == "tool_filter" and r.get("decision") == "deny"]
    assert denials and denials[-1]["tool"] == "add"


async def test_result_over_the_size_cap_is_replaced_by_an_error(gw: Gateway) -> None:
    async with sdk_session(gw.url("feat")) as (s, _):
        assert len((await s.call_tool("big", {"size": 100})).content[0].text) == 100  # type: ignore[union-attr]
        with pytest.raises(MCPError) as info:
            await s.call_tool("big", {"size": 5000})
    assert info.value.error.data["reason"] == "result.too_large"  # type: ignore[index]
    assert any(r.get("guard") == "result_size" for r in gw.audit())


async def test_hidden_tool_list_rewrite_is_audited(gw: Gateway) -> None:
    async with sdk_session(gw.url("feat")) as (s, _):
        await s.list_tools()
    rewrites = [r for r in gw.audit() if r.get("guard") == "tool_filter" and r.get("decision") == "rewrite"]
    assert rewrites and "add" in rewrites[-1]["details"]["hidden"]
