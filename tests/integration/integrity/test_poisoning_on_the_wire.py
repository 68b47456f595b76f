"""A poisoned tool definition (hidden `<IMPORTANT>` block asking for ~/.ssh/id_rsa) served by
a real SDK server: `on_poisoning: quarantine` hides it and denies calls; `warn` keeps it and
writes an audit alert."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from integrity_kit import (
    DENIED,
    UPSTREAM,
    denied,
    findings_of,
    names,
    raw_call,
    rig,
    stdio_fixture,
    wait_audit,
)
from mcp.shared.exceptions import MCPError
from mcp.types import ErrorData

from gwtest.client import sdk_session
from gwtest.procs import Gateway, gateway

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    config = {
        "upstreams": {
            "strict": stdio_fixture("poisoned", on_poisoning="quarantine"),
            "lenient": stdio_fixture("poisoned", on_poisoning="warn"),
        }
    }
    with gateway(config) as g:
        yield g


def flagged_weather(upstream: str, reason: str) -> object:
    def match(r: dict[str, object]) -> bool:
        details = r.get("details")
        tools = details.get("tools") if isinstance(details, dict) else None
        return (
            r.get("guard") == "poisoning"
            and r.get("upstream") == upstream
            and r.get("reason") == reason
            and any(t["name"] == "get_weather" for t in tools or [])
        )

    return match


async def test_poisoned_tool_is_absent_under_quarantine(gw: Gateway) -> None:
    async with sdk_session(gw.url("strict")) as (s, _):
        assert names(await s.list_tools()) == {"get_time"}


async def test_call_to_poisoned_tool_is_denied_under_quarantine(gw: Gateway) -> None:
    async with sdk_session(gw.url("strict")) as (s, _):
        await s.list_tools()
        err = await denied(s.call_tool("get_weather", {"city": "Oslo"}))
        assert (await s.call_tool("get_time", {"zone": "UTC"})).is_error is False
    assert err.code == DENIED
    assert err.data == {"reason": "poison.quarantined", "guard": "poisoning"}
    assert "hidden-instruction-block" in err.message


async def test_client_that_never_lists_cannot_call_a_poisoned_tool(gw: Gateway) -> None:
    reply = raw_call(gw.url("strict"), "get_weather", {"city": "Oslo"})
    assert reply["error"]["code"] == DENIED
    assert reply["error"]["data"]["reason"] == "poison.quarantined"


async def test_quarantine_is_audited_with_the_findings(gw: Gateway) -> None:
    async with sdk_session(gw.url("strict")) as (s, _):
        await s.list_tools()
    record = wait_audit(gw, flagged_weather("strict", "poison.quarantined"))  # type: ignore[arg-type]
    rules = {f["rule"] for f in findings_of(record)}
    assert {"hidden-instruction-block", "sensitive-path"} <= rules
    assert record["decision"] == "rewrite"


async def test_poisoned_tool_stays_listed_under_warn(gw: Gateway) -> None:
    async with sdk_session(gw.url("lenient")) as (s, _):
        assert names(await s.list_tools()) == {"get_weather", "get_time"}
        assert (await s.call_tool("get_weather", {"city": "Oslo"})).is_error is False


async def test_warn_writes_an_audit_alert_naming_the_tool(gw: Gateway) -> None:
    async with sdk_session(gw.url("lenient")) as (s, _):
        await s.list_tools()
    record = wait_audit(gw, flagged_weather("lenient", "poison.suspected"))  # type: ignore[arg-type]
    assert record["event"] == "alert"
    assert "get_weather" in record["message"]


async def test_approved_poisoned_rug_pull_is_quarantined_at_the_next_listing(tmp_path: Path) -> None:
    with rig(tmp_path, "tofu", "http", on_poisoning="quarantine") as r:
        async with sdk_session(r.url) as (s, _):
            await s.list_tools()
            await s.call_tool("flip", {"to": "pulled"})
            # The poisoning guard runs first, so the poisoned change is refused as poisoned.
            assert (await denied(s.call_tool("lookup", {"word": "x"}))).data["reason"] == "poison.quarantined"  # type: ignore[index]
            r.approve("lookup")
            assert names(await s.list_tools()) == {"flip"}
            err = await denied(s.call_tool("lookup", {"word": "x"}))
    assert err.data == {"reason": "poison.quarantined", "guard": "poisoning"}
    assert UPSTREAM in err.message


async def test_approved_poisoned_rug_pull_is_denied_even_without_a_new_listing(tmp_path: Path) -> None:
    with rig(tmp_path, "tofu", "http", on_poisoning="quarantine") as r:
        async with sdk_session(r.url) as (s, _):
            await s.list_tools()
            await s.call_tool("flip", {"to": "pulled"})
            # The poisoning guard runs first, so the poisoned change is refused as poisoned.
            assert (await denied(s.call_tool("lookup", {"word": "x"}))).data["reason"] == "poison.quarantined"  # type: ignore[index]
            r.approve("lookup")
            try:
                await s.call_tool("lookup", {"word": "x"})
                err: ErrorData | None = None
            except MCPError as exc:
                err = exc.error
    # Asserted outside the session, so a failure is reported plainly, not inside a task group.
    assert err is not None and err.data == {"reason": "poison.quarantined", "guard": "poisoning"}
