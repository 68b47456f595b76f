"""The demo server, exercised over stdio with the official SDK client, one feature per test."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest
from mcp import ClientSession, types
from mcp.client.context import ClientRequestContext
from mcp.client.streamable_http import streamable_http_client

from conformance.fixture_process import demo_command, start_http_server

from .conftest import demo_session

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

DEMO_TOOLS = {
    "search_notes",
    "read_note",
    "add_note",
    "reindex_notes",
    "summarize_note",
    "delete_note",
    "check_inbox",
}


def _text(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


async def test_lists_every_demo_tool_with_a_description(sandbox: Path) -> None:
    async with demo_session(sandbox) as session:
        tools = (await session.list_tools()).tools
    assert {tool.name for tool in tools} == DEMO_TOOLS
    assert all(tool.description for tool in tools)


async def test_server_advertises_logging_completion_and_resource_subscriptions(sandbox: Path) -> None:
    async with demo_session(sandbox) as session:
        capabilities = session.server_capabilities
    assert capabilities is not None
    assert capabilities.logging is not None
    assert capabilities.completions is not None
    assert capabilities.resources is not None and capabilities.resources.subscribe is True


async def test_search_returns_structured_hits(sandbox: Path) -> None:
    async with demo_session(sandbox) as session:
        result = await session.call_tool("search_notes", {"query": "hash chain"})
    assert result.is_error is False
    assert result.structured_content is not None
    assert [hit["path"] for hit in result.structured_content["hits"]] == ["gateway-checklist"]


async def test_read_note_returns_the_file_text(sandbox: Path) -> None:
    async with demo_session(sandbox) as session:
        result = await session.call_tool("read_note", {"path": "welcome"})
    assert _text(result) == (sandbox / "welcome.md").read_text(encoding="utf-8")


async def test_read_note_refuses_a_path_outside_the_sandbox(sandbox: Path) -> None:
    (sandbox.parent / "secret.md").write_text("TOP SECRET", encoding="utf-8")
    async with demo_session(sandbox) as session:
        result = await session.call_tool("read_note", {"path": "../secret.md"})
    assert result.is_error is True
    assert "TOP SECRET" not in _text(result)


async def test_reindex_reports_progress_for_each_note(sandbox: Path) -> None:
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async with demo_session(sandbox) as session:
        result = await session.call_tool("reindex_notes", {}, progress_callback=on_progress)
    assert _text(result) == "Indexed 3 notes"
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]


async def test_add_note_logs_debug_detail_once_level_is_debug(sandbox: Path) -> None:
    logs: list[types.LoggingMessageNotificationParams] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    async with demo_session(sandbox, logging_callback=on_log) as session:
        await session.set_logging_level("debug")
        result = await session.call_tool("add_note", {"title": "Budget 2027", "body": "Draft numbers."})
    assert _text(result) == "budget-2027"
    assert [entry.level for entry in logs] == ["debug", "info"]
    assert logs[1].data == "Saved note budget-2027"


async def test_default_log_level_withholds_debug_messages(sandbox: Path) -> None:
    logs: list[types.LoggingMessageNotificationParams] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    async with demo_session(sandbox, logging_callback=on_log) as session:
        await session.call_tool("add_note", {"title": "Budget", "body": "Draft."})
    assert [entry.level for entry in logs] == ["info"]


async def test_summarize_note_asks_the_client_model(sandbox: Path) -> None:
    prompts: list[str] = []

    async def sample(
        context: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        content = params.messages[0].content
        assert isinstance(content, types.TextContent)
        prompts.append(content.text)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text="A short summary."),
            model="test-model",
        )

    async with demo_session(sandbox, sampling_callback=sample) as session:
        result = await session.call_tool("summarize_note", {"path": "welcome"})
    assert _text(result) == "A short summary."
    assert "mcpwarden demo notes server" in prompts[0]


def _elicitation_answer(action: Literal["accept", "decline", "cancel"], confirm: bool) -> Any:
    async def answer(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        return types.ElicitResult(action=action, content={"confirm": confirm} if action == "accept" else None)

    return answer


async def test_delete_note_removes_the_file_when_the_user_confirms(sandbox: Path) -> None:
    async with demo_session(sandbox, elicitation_callback=_elicitation_answer("accept", True)) as session:
        result = await session.call_tool("delete_note", {"path": "welcome"})
    assert _text(result) == "Deleted welcome"
    assert not (sandbox / "welcome.md").exists()


async def test_delete_note_keeps_the_file_when_the_user_declines(sandbox: Path) -> None:
    async with demo_session(sandbox, elicitation_callback=_elicitation_answer("decline", False)) as session:
        result = await session.call_tool("delete_note", {"path": "welcome"})
    assert _text(result).startswith("Kept welcome")
    assert (sandbox / "welcome.md").exists()


async def test_inbox_sample_carries_a_prompt_injection_and_says_it_is_sample_data(sandbox: Path) -> None:
    async with demo_session(sandbox) as session:
        tool = next(tool for tool in (await session.list_tools()).tools if tool.name == "check_inbox")
        result = await session.call_tool("check_inbox", {})
    assert tool.description is not None and "SAMPLE DATA" in tool.description
    assert "ignore all previous instructions" in _text(result)


async def test_index_resource_lists_every_note(sandbox: Path) -> None:
    async with demo_session(sandbox) as session:
        result = await session.read_resource("notes://index")
    content = result.contents[0]
    assert isinstance(content, types.TextResourceContents)
    assert all(f"`{name}`" in content.text for name in ("welcome", "gateway-checklist", "meeting-2026-11-20"))


async def test_note_template_reads_one_note(sandbox: Path) -> None:
    async with demo_session(sandbox) as session:
        templates = (await session.list_resource_templates()).resource_templates
        result = await session.read_resource("notes://note/welcome")
    assert [template.uri_template for template in templates] == ["notes://note/{name}"]
    content = result.contents[0]
    assert isinstance(content, types.TextResourceContents)
    assert content.text.startswith("# Welcome")


async def test_subscriber_is_told_when_the_index_changes(sandbox: Path) -> None:
    updated: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updated.append(message.params.uri)

    async with demo_session(sandbox, message_handler=on_message) as session:
        await session.subscribe_resource("notes://index")
        await session.call_tool("add_note", {"title": "New", "body": "Text."})
        await session.send_ping()  # the notification precedes the ping's reply on the stream
    assert updated == ["notes://index"]


async def test_unsubscribed_client_is_not_told_about_changes(sandbox: Path) -> None:
    updated: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updated.append(message.params.uri)

    async with demo_session(sandbox, message_handler=on_message) as session:
        await session.subscribe_resource("notes://index")
        await session.unsubscribe_resource("notes://index")
        await session.call_tool("add_note", {"title": "New", "body": "Text."})
        await session.send_ping()
    assert updated == []


async def test_review_prompt_embeds_the_note_and_the_focus(sandbox: Path) -> None:
    async with demo_session(sandbox) as session:
        result = await session.get_prompt("review_note", {"name": "welcome", "focus": "tone"})
    first, second = (message.content for message in result.messages)
    assert isinstance(first, types.EmbeddedResource)
    assert str(first.resource.uri) == "notes://note/welcome"
    assert isinstance(second, types.TextContent) and "for tone" in second.text


async def test_prompt_completion_suggests_note_names_by_prefix(sandbox: Path) -> None:
    async with demo_session(sandbox) as session:
        result = await session.complete(
            types.PromptReference(type="ref/prompt", name="review_note"), {"name": "name", "value": "me"}
        )
    assert result.completion.values == ["meeting-2026-11-20"]


async def test_prompt_completion_suggests_review_focuses(sandbox: Path) -> None:
    async with demo_session(sandbox) as session:
        result = await session.complete(
            types.PromptReference(type="ref/prompt", name="review_note"), {"name": "focus", "value": "c"}
        )
    assert result.completion.values == ["clarity"]


async def test_http_transport_serves_the_same_tools(sandbox: Path) -> None:
    with start_http_server(demo_command("http", sandbox=sandbox)) as url:
        async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = (await session.list_tools()).tools
            result = await session.call_tool("read_note", {"path": "welcome"})
    assert {tool.name for tool in tools} == DEMO_TOOLS
    assert _text(result).startswith("# Welcome")
