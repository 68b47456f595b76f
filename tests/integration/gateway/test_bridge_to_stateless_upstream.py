"""A 2025-11-25 client (the official SDK, handshake mode) through the gateway to upstreams that
speak only 2026-07-28 (`era: stateless`), over HTTP and stdio: the gateway opens no upstream
session, stamps each request's `_meta`, turns the upstream's input-required results into
server requests on the call's stream and retries with the answers; what the revision cannot
express (resource subscriptions) is refused with a reason. A 2026-07-28 client reaches the same
upstreams with its input rounds intact."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import ElicitResult, PromptReference, TextContent

from gwtest.client import sdk_session
from gwtest.procs import FIXTURES, PYTHON, Gateway, gateway, http_server, http_upstream

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SERVER = FIXTURES / "stateless_server.py"
UPSTREAMS = ["web", "local"]


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    with http_server(SERVER, "--name", "web") as (url, _):
        config = {
            "upstreams": {
                "web": http_upstream(url, era="stateless", timeout_s=20),
                "local": {
                    "transport": "stdio",
                    "command": PYTHON,
                    "args": [str(SERVER), "--name", "local"],
                    "content": "off",
                    "era": "stateless",
                    "timeout_s": 20,
                },
            }
        }
        with gateway(config) as g:
            yield g


def _text(result: Any) -> str:
    item = result.content[0]
    assert isinstance(item, TextContent)
    return item.text


@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_handshake_client_gets_an_initialize_result_from_discover(gw: Gateway, upstream: str) -> None:
    async with sdk_session(gw.url(upstream)) as (s, _):
        assert s.protocol_version == "2025-11-25"
        caps = s.server_capabilities
        assert caps is not None and caps.tools is not None and caps.resources is not None
        assert not caps.resources.subscribe  # updates travel on listen streams, which are not bridged
        await s.send_ping()


@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_tools_resources_prompts_and_completion_are_bridged(gw: Gateway, upstream: str) -> None:
    async with sdk_session(gw.url(upstream)) as (s, _):
        assert {"echo", "confirm"} <= {t.name for t in (await s.list_tools()).tools}
        assert _text(await s.call_tool("echo", {"text": "hi"})) == f"{upstream}: hi"
        read = await s.read_resource("note://static")
        assert read.contents[0].text == f"static note from {upstream}"  # type: ignore[union-attr]
        prompt = await s.get_prompt("greet", {"name": "Ada"})
        assert "Ada" in prompt.messages[0].content.text  # type: ignore[union-attr]
        done = await s.complete(
            PromptReference(type="ref/prompt", name="greet"), {"name": "style", "value": "p"}
        )
        assert done.completion.values == ["plain", "pirate", "poetic"]


@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_input_required_becomes_an_elicitation_of_the_handshake_client(
    gw: Gateway, upstream: str
) -> None:
    async with sdk_session(gw.url(upstream)) as (s, rec):
        result = await s.call_tool("confirm", {"action": "ship"})
    assert [e.message for e in rec.elicitations] == ["Really ship?"]
    assert _text(result) == "accept: confirm=True state=asked:ship"


async def test_subscriptions_cannot_be_translated_and_say_so(gw: Gateway) -> None:
    async with sdk_session(gw.url("local")) as (s, _):
        with pytest.raises(MCPError) as info:
            await s.subscribe_resource("note://static")
    assert info.value.error.code == -32601
    assert info.value.error.data == {"reason": "bridge.untranslatable"}


@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_stateless_client_to_stateless_upstream_completes_an_input_round(
    gw: Gateway, upstream: str
) -> None:
    """Both ends on 2026-07-28: the upstream's input request reaches the client as an
    input-required result under the gateway's own state, and the retry completes the call."""
    asked: list[str] = []

    async def on_elicit(_ctx: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    async with Client(gw.url(upstream), mode="2026-07-28", elicitation_callback=on_elicit) as sdk:
        result = await sdk.call_tool("confirm", {"action": "merge"})
        echoed = await sdk.call_tool("echo", {"text": "both modern"})
    assert asked == ["Really merge?"]
    assert _text(result) == "accept: confirm=True state=asked:merge"
    assert _text(echoed) == f"{upstream}: both modern"
