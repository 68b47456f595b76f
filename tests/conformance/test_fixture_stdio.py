"""The fixture serves the same surface over stdio, so it can stand behind the gateway as a stdio upstream."""

from __future__ import annotations

import pytest
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.context import ClientRequestContext
from mcp.client.stdio import stdio_client

from conformance.fixture_process import fixture_command

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _params() -> StdioServerParameters:
    command, *args = fixture_command("stdio")
    return StdioServerParameters(command=command, args=args)


async def test_stdio_fixture_lists_the_scenario_tools_resources_and_prompts() -> None:
    async with stdio_client(_params()) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = {tool.name for tool in (await session.list_tools()).tools}
        resources = {str(resource.uri) for resource in (await session.list_resources()).resources}
        prompts = {prompt.name for prompt in (await session.list_prompts()).prompts}
    assert {
        "test_simple_text",
        "test_tool_with_progress",
        "test_sampling",
        "json_schema_2020_12_tool",
    } <= tools
    assert resources == {"test://static-text", "test://static-binary", "test://watched-resource"}
    assert "test_prompt_with_arguments" in prompts


async def test_stdio_fixture_relays_elicitation_and_progress() -> None:
    reported: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append(progress)

    async def elicit(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        return types.ElicitResult(action="accept", content={"username": "ada", "email": "ada@example.com"})

    async with (
        stdio_client(_params()) as (read, write),
        ClientSession(read, write, elicitation_callback=elicit) as session,
    ):
        await session.initialize()
        elicited = await session.call_tool("test_elicitation", {"message": "Who are you?"})
        await session.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
    first = elicited.content[0]
    assert isinstance(first, types.TextContent) and '"username": "ada"' in first.text
    assert reported == [0, 50, 100]
