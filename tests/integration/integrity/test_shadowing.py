"""Cross-server checks on the aggregated endpoint `/mcp`: a server whose tool description
talks about another server's tool (shadowing), and a tool name confusable with another
server's, seen by the real gateway in front of three SDK servers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from integrity_kit import DENIED, denied, findings_of, names, raw_call, stdio_fixture, text_of, wait_audit

from gwtest.client import sdk_session
from gwtest.procs import Gateway, gateway

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

LOOKALIKE = "send_emaіl"  # Cyrillic і (U+0456)


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    config = {
        "upstreams": {
            "mail": stdio_fixture("mail", on_poisoning="quarantine"),
            "notes": stdio_fixture("shadow", on_poisoning="quarantine"),
            "relay": stdio_fixture("lookalike", on_poisoning="warn"),
        }
    }
    with gateway(config) as g:
        yield g


def poison_record(upstream: str, rule: str) -> Any:
    def match(r: dict[str, Any]) -> bool:
        return (
            r.get("guard") == "poisoning"
            and r.get("upstream") == upstream
            and any(f["rule"] == rule for f in findings_of(r))
        )

    return match


async def test_tools_that_name_another_servers_tool_are_hidden_on_the_aggregated_endpoint(
    gw: Gateway,
) -> None:
    async with sdk_session(gw.url()) as (s, _):
        listed = names(await s.list_tools())
    assert "mail__send_email" in listed
    assert not listed & {"notes__format_text", "notes__sign_message"}


async def test_call_to_a_shadowing_tool_is_denied(gw: Gateway) -> None:
    async with sdk_session(gw.url()) as (s, _):
        await s.list_tools()
        err = await denied(s.call_tool("notes__sign_message", {"text": "hi"}))
    assert err.code == DENIED
    assert err.data == {"reason": "poison.quarantined", "guard": "poisoning"}
    assert "cross-server-reference" in err.message


async def test_shadowing_audit_names_the_cross_server_reference(gw: Gateway) -> None:
    async with sdk_session(gw.url()) as (s, _):
        await s.list_tools()
    record = wait_audit(gw, poison_record("notes", "cross-server-reference"))
    assert record["reason"] == "poison.quarantined"
    by_tool = {t["name"]: t for t in record["details"]["tools"]}
    assert set(by_tool) == {"format_text", "sign_message"}
    finding = next(f for f in by_tool["sign_message"]["findings"] if f["rule"] == "cross-server-reference")
    assert "mail:send_email" in finding["message"]
    assert finding["path"] == "$.notes[1].description"


async def test_a_mere_mention_of_another_servers_tool_is_caught_only_by_the_cross_server_check(
    gw: Gateway,
) -> None:
    async with sdk_session(gw.url()) as (s, _):
        await s.list_tools()
    record = wait_audit(gw, poison_record("notes", "cross-server-reference"))
    format_text = next(t for t in record["details"]["tools"] if t["name"] == "format_text")
    assert [f["rule"] for f in format_text["findings"]] == ["cross-server-reference"]


async def test_first_session_that_never_lists_cannot_call_the_shadowing_tool() -> None:
    # A fresh gateway: the servers answer the gateway's first listing in any order.
    config = {
        "upstreams": {
            "mail": stdio_fixture("mail", on_poisoning="quarantine"),
            "notes": stdio_fixture("shadow", on_poisoning="quarantine"),
        }
    }
    with gateway(config) as fresh:
        reply = raw_call(fresh.url(), "notes__format_text", {"text": "hi"})
    assert reply["error"]["code"] == DENIED
    assert reply["error"]["data"]["reason"] == "poison.quarantined"


async def test_confusable_tool_name_on_a_second_server_is_reported(gw: Gateway) -> None:
    async with sdk_session(gw.url()) as (s, _):
        listed = names(await s.list_tools())
    assert f"relay__{LOOKALIKE}" in listed  # `warn`: reported, not hidden
    record = wait_audit(gw, poison_record("relay", "confusable-tool-name"))
    assert record["event"] == "alert" and record["reason"] == "poison.suspected"
    finding = next(f for f in findings_of(record) if f["rule"] == "confusable-tool-name")
    assert "'mail':'send_email'" in finding["message"]


async def test_imitated_tool_of_the_first_server_stays_callable(gw: Gateway) -> None:
    async with sdk_session(gw.url()) as (s, _):
        await s.list_tools()
        result = await s.call_tool("mail__send_email", {"to": "a@b.example", "subject": "s", "body": "b"})
    assert text_of(result).startswith("send_email called with")
    assert not any(
        r.get("upstream") == "mail" and r.get("reason") == "poison.quarantined" for r in gw.audit()
    )
