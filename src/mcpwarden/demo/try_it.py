"""A guided tour client: connects to a gateway with the official SDK and shows what it does.

python -m mcpwarden.demo.try_it http://127.0.0.1:8765/servers/notes/mcp
"""

from __future__ import annotations

import asyncio
import sys

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import TextContent
from rich.console import Console

console = Console()


def _text(result: object) -> str:
    content = getattr(result, "content", [])
    return "\n".join(c.text for c in content if isinstance(c, TextContent))


async def tour(url: str) -> None:
    async with (
        httpx2.AsyncClient(follow_redirects=True) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        init = await session.initialize()
        console.print(f"[bold]connected[/] to {init.server_info.name} (protocol {init.protocol_version})")
        tools = (await session.list_tools()).tools
        console.print("[bold]tools visible through the gateway:[/]", ", ".join(t.name for t in tools))
        names = {t.name for t in tools}
        prefix = "notes__" if "notes__search_notes" in names else ""

        console.rule("an ordinary call")
        result = await session.call_tool(f"{prefix}search_notes", {"query": "gateway"})
        console.print(_text(result)[:400])

        console.rule("a tool the config denies (delete_note)")
        try:
            await session.call_tool(f"{prefix}delete_note", {"path": "welcome.md"})
        except MCPError as exc:
            console.print(f"[red]denied[/]: {exc.message} (data: {exc.data})")

        console.rule("an e-mail carrying a prompt injection (check_inbox)")
        try:
            console.print(_text(await session.call_tool(f"{prefix}check_inbox", {}))[:1200])
        except MCPError as exc:
            console.print(f"[red]blocked[/]: {exc.message} (data: {exc.data})")
    console.print("\nEvery call above is in the audit trail: mcpwarden audit tail var/audit.jsonl")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    asyncio.run(tour(sys.argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
