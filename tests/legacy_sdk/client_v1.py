"""Runs under the 1.x SDK (see venv.py beside it): one session through the gateway, as 1.x clients do.

Usage: python client_v1.py URL
Prints one JSON object: the negotiated version, the tools seen, a tool's text, what a sampling
and an elicitation round trip returned, and the error of a call the gateway refuses.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.exceptions import McpError
from mcp.types import CreateMessageResult, ElicitResult, TextContent


def _text(result: Any) -> str:
    return "".join(block.text for block in result.content if isinstance(block, TextContent))


async def main(url: str) -> dict[str, Any]:
    async def on_sampling(_ctx: Any, params: Any) -> CreateMessageResult:
        return CreateMessageResult(
            role="assistant", content=TextContent(type="text", text="v1 model"), model="legacy"
        )

    async def on_elicit(_ctx: Any, params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={"confirm": True})

    report: dict[str, Any] = {}
    async with (
        streamablehttp_client(url) as (read, write, _),
        ClientSession(read, write, sampling_callback=on_sampling, elicitation_callback=on_elicit) as session,
    ):
        init = await session.initialize()
        report["protocol"] = init.protocolVersion
        report["tools"] = sorted(tool.name for tool in (await session.list_tools()).tools)
        report["echo"] = _text(await session.call_tool("echo", {"text": "from 1.x"}))
        report["structured"] = (await session.call_tool("add", {"a": 2, "b": 3})).structuredContent
        report["sampling"] = _text(await session.call_tool("ask_model", {"question": "hi"}))
        report["elicitation"] = _text(await session.call_tool("confirm_action", {"action": "ship"}))
        try:
            await session.call_tool("crash", {})
            report["refused"] = None
        except McpError as exc:
            report["refused"] = {"code": exc.error.code, "data": exc.error.data}
    return report


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))))
