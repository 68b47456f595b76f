"""The official SDK client in 2026-07-28 mode through the gateway to handshake-era SDK servers
(HTTP and stdio): tools, resources, prompts, completion and a `subscriptions/listen` stream that
carries the upstream's resource update. (Elicitation and sampling, bridged as input-required
results, are in test_input_required.py.)"""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest
from mcp import Client
from mcp.types import PromptReference, TextContent

from gwtest.procs import FEATURES_SERVER, Gateway, gateway, http_server, http_upstream, stdio_upstream

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

UPSTREAMS = ["web", "local"]


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


@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_stateless_sdk_client_uses_tools_resources_prompts_and_completion(
    gw: Gateway, upstream: str
) -> None:
    async with Client(gw.url(upstream), mode="2026-07-28") as sdk:
        assert sdk.protocol_version == "2026-07-28"
        assert {"echo", "add"} <= {t.name for t in (await sdk.list_tools()).tools}
        echoed = (await sdk.call_tool("echo", {"text": "hi"})).content[0]
        assert isinstance(echoed, TextContent) and echoed.text == f"{upstream}: hi"
        read = await sdk.read_resource("note://items/apples")
        templates = (await sdk.list_resource_templates()).resource_templates
        prompt = await sdk.get_prompt("greet", {"name": "Ada"})
        done = await sdk.complete(
            PromptReference(type="ref/prompt", name="greet"), {"name": "style", "value": "p"}
        )
    assert read.contents[0].text == "note about apples"  # type: ignore[union-attr]
    assert "note://items/{item}" in {t.uri_template for t in templates}
    assert "Ada" in prompt.messages[0].content.text  # type: ignore[union-attr]
    assert done.completion.values == ["plain", "pirate", "poetic"]


@pytest.mark.parametrize("upstream", UPSTREAMS)
async def test_stateless_sdk_client_hears_a_resource_update_on_its_listen_stream(
    gw: Gateway, upstream: str
) -> None:
    async with (
        Client(gw.url(upstream), mode="2026-07-28") as sdk,
        sdk.listen(resource_subscriptions=["note://static"]) as sub,
    ):
        told = (await sdk.call_tool("touch_note", {})).content[0]
        assert isinstance(told, TextContent) and told.text == "notified"
        with anyio.fail_after(15):
            event = await sub.__anext__()
    assert "note://static" in repr(event)
