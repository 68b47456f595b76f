"""The gateway relays every MCP feature faithfully, with the official SDK client on one side
and SDK servers on the other, over both an HTTP and a stdio upstream."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from mcp.types import LoggingMessageNotification, ResourceUpdatedNotification, TextContent

from gwtest.client import sdk_session
from gwtest.procs import FEATURES_SERVER, Gateway, gateway, http_server, http_upstream, stdio_upstream

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    with http_server(FEATURES_SERVER, "--name", "web") as (url, _):
        config = {
            "upstreams": {
                "web": http_upstream(url, timeout_s=20),
                "local": stdio_upstream("local", timeout_s=20),
            }
        }
        with gateway(config) as g:
            yield g


UPSTREAMS = ["web", "local"]


def _text(result: Any) -> str:
    item = result.content[0]
    assert isinstance(item, TextContent)
    return item.text


@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_tools_are_listed_and_called(gw: Gateway, upstream: str) -> None:
    async with sdk_session(gw.url(upstream)) as (s, _):
        names = {t.name for t in (await s.list_tools()).tools}
        assert {"echo", "add", "slow_progress"} <= names
        assert _text(await s.call_tool("echo", {"text": "hi"})) == f"{upstream}: hi"
        assert (await s.call_tool("add", {"a": 2, "b": 3})).structured_content == {"result": 5}


@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_resources_and_templates_are_read(gw: Gateway, upstream: str) -> None:
    async with sdk_session(gw.url(upstream)) as (s, _):
        uris = {str(r.uri) for r in (await s.list_resources()).resources}
        assert "note://static" in uris
        templates = {t.uri_template for t in (await s.list_resource_templates()).resource_templates}
        assert "note://items/{item}" in templates
        read = await s.read_resource("note://items/apples")  # type: ignore[arg-type]
        assert read.contents[0].text == "note about apples"  # type: ignore[union-attr]


@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_resource_subscription_delivers_updates(gw: Gateway, upstream: str) -> None:
    async with sdk_session(gw.url(upstream)) as (s, rec):
        await s.subscribe_resource("note://static")  # type: ignore[arg-type]
        assert _text(await s.call_tool("touch_note", {})) == "notified"
        with anyio.fail_after(10):
            while not any(isinstance(m, ResourceUpdatedNotification) for m in rec.messages):
                await anyio.sleep(0.05)
        await s.unsubscribe_resource("note://static")  # type: ignore[arg-type]
        assert _text(await s.call_tool("touch_note", {})) == "nobody subscribed"


@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_prompts_and_completion_are_relayed(gw: Gateway, upstream: str) -> None:
    from mcp.types import PromptReference

    async with sdk_session(gw.url(upstream)) as (s, _):
        assert "greet" in {p.name for p in (await s.list_prompts()).prompts}
        prompt = await s.get_prompt("greet", {"name": "Ada", "style": "pirate"})
        assert "Ada" in prompt.messages[0].content.text  # type: ignore[union-attr]
        done = await s.complete(
            PromptReference(type="ref/prompt", name="greet"), {"name": "style", "value": "p"}
        )
        assert set(done.completion.values) == {"plain", "pirate", "poetic"}


@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_progress_notifications_reach_the_caller(gw: Gateway, upstream: str) -> None:
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    async with sdk_session(gw.url(upstream)) as (s, _):
        result = await s.call_tool("slow_progress", {"steps": 4}, progress_callback=on_progress)
        assert _text(result) == "done"
    assert seen == [1, 2, 3, 4]


@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_logging_notifications_reach_the_client(gw: Gateway, upstream: str) -> None:
    async with sdk_session(gw.url(upstream)) as (s, rec):
        assert _text(await s.call_tool("chatty", {})) == "logged"
        with anyio.fail_after(10):
            while len(rec.logs) < 2:
                await anyio.sleep(0.05)
    assert [entry.data for entry in rec.logs[:2]] == ["starting", "halfway"]
    assert any(isinstance(m, LoggingMessageNotification) for m in rec.messages)


@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_sampling_round_trips_through_the_gateway(gw: Gateway, upstream: str) -> None:
    async with sdk_session(gw.url(upstream)) as (s, rec):
        assert _text(await s.call_tool("ask_model", {"question": "2+2?"})) == "model says: 2+2?"
    assert rec.sampling[0].max_tokens == 50


@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_elicitation_round_trips_through_the_gateway(gw: Gateway, upstream: str) -> None:
    async with sdk_session(gw.url(upstream)) as (s, rec):
        assert _text(await s.call_tool("confirm_action", {"action": "deploy"})) == "confirmed=True"
    assert rec.elicitations[0].message == "Really deploy?"


@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_roots_request_round_trips_through_the_gateway(gw: Gateway, upstream: str) -> None:
    async with sdk_session(gw.url(upstream)) as (s, _):
        assert _text(await s.call_tool("list_roots", {})) == "file:///workspace/project"


@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_ping_is_answered(gw: Gateway, upstream: str) -> None:
    async with sdk_session(gw.url(upstream)) as (s, _):
        await s.send_ping()


async def test_aggregated_endpoint_prefixes_names_and_routes_to_the_owner(gw: Gateway) -> None:
    async with sdk_session(gw.url()) as (s, _):
        names = {t.name for t in (await s.list_tools()).tools}
        assert {"web__echo", "local__echo"} <= names
        assert _text(await s.call_tool("web__echo", {"text": "a"})) == "web: a"
        assert _text(await s.call_tool("local__echo", {"text": "b"})) == "local: b"


async def test_aggregated_endpoint_prefixes_resource_uris_and_routes_reads(gw: Gateway) -> None:
    async with sdk_session(gw.url()) as (s, _):
        uris = {str(r.uri) for r in (await s.list_resources()).resources}
        assert {"web+note://static", "local+note://static"} <= uris
        templates = {t.uri_template for t in (await s.list_resource_templates()).resource_templates}
        assert "local+note://items/{item}" in templates
        read = await s.read_resource("local+note://static")  # type: ignore[arg-type]
        assert read.contents[0].text == "static note from local"  # type: ignore[union-attr]
        assert str(read.contents[0].uri) == "local+note://static"


async def test_aggregated_endpoint_routes_prompts_and_completions(gw: Gateway) -> None:
    from mcp.types import PromptReference

    async with sdk_session(gw.url()) as (s, _):
        assert {"web__greet", "local__greet"} <= {p.name for p in (await s.list_prompts()).prompts}
        prompt = await s.get_prompt("web__greet", {"name": "Lin"})
        assert "Lin" in prompt.messages[0].content.text  # type: ignore[union-attr]
        done = await s.complete(
            PromptReference(type="ref/prompt", name="local__greet"), {"name": "style", "value": "po"}
        )
        assert done.completion.values == ["poetic"]


async def test_aggregated_endpoint_relays_sampling_from_either_upstream(gw: Gateway) -> None:
    async with sdk_session(gw.url()) as (s, _):
        assert _text(await s.call_tool("web__ask_model", {"question": "w"})) == "model says: w"
        assert _text(await s.call_tool("local__ask_model", {"question": "l"})) == "model says: l"


async def test_aggregated_unknown_tool_is_an_invalid_params_error(gw: Gateway) -> None:
    from mcp.shared.exceptions import MCPError

    async with sdk_session(gw.url()) as (s, _):
        with pytest.raises(MCPError, match="unknown tool"):
            await s.call_tool("nobody__echo", {"text": "x"})


async def test_every_request_is_audited_with_arguments_digest(gw: Gateway) -> None:
    async with sdk_session(gw.url("web")) as (s, _):
        await s.call_tool("echo", {"text": "audit me"})
    calls = [r for r in gw.audit() if r.get("event") == "request" and r.get("tool") == "echo"]
    assert calls, "tools/call was not audited"
    record = calls[-1]
    assert record["upstream"] == "web" and record["decision"] == "allow"
    assert len(record["args_sha256"]) == 64 and "arguments" not in record
    assert record["latency_ms"] >= 0 and record["request_bytes"] > 0 and record["response_bytes"] > 0
