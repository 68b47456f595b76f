"""Live inspection: start or connect to each configured server and list what it offers.

Servers are untrusted code. A stdio server gets a scrubbed environment: PATH and HOME
from the scanner, plus only the variables its own config sets (the MCP SDK adds its
short list of harmless defaults such as USER and SHELL). Nothing else of the scanner's
environment, where CI secrets live, is passed on. Every server gets a hard timeout,
and servers are inspected one at a time so a hung one cannot starve the others.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

import anyio
import httpx2
import re2
from mcp import ClientSession, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.types import PaginatedRequestParams

from mcpwarden.scan.model import ServerEntry

# Called with (server, None, total) when a server starts and (server, result, total) when done.
ProgressHook = Callable[[ServerEntry, "Inspection | None", int], None]

_REFERENCE = re2.compile(r"\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)\}")
_STDERR_TAIL = 600


@dataclass(slots=True)
class Inspection:
    entry: ServerEntry
    tools: list[dict[str, Any]] = field(default_factory=list)
    prompts: list[dict[str, Any]] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)
    resource_templates: list[dict[str, Any]] = field(default_factory=list)
    instructions: str | None = None
    server_name: str | None = None
    server_version: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "server": self.entry.name,
            "client": self.entry.client,
            "file": str(self.entry.file),
            "server_info": {"name": self.server_name, "version": self.server_version},
            "tools": [t.get("name") for t in self.tools],
            "prompts": [p.get("name") for p in self.prompts],
            "resources": [r.get("uri") for r in self.resources],
            "resource_templates": [r.get("uriTemplate") for r in self.resource_templates],
            "error": self.error,
        }


def expand_references(value: str, environ: Mapping[str, str]) -> str:
    """Expand `${NAME}` / `${env:NAME}` as the clients do; unknown names expand to ""."""
    return _REFERENCE.sub(lambda m: environ.get(m.group(1), ""), value)


def scrubbed_environment(entry: ServerEntry, environ: Mapping[str, str], home: str | None) -> dict[str, str]:
    env: dict[str, str] = {}
    if environ.get("PATH"):
        env["PATH"] = environ["PATH"]
    home_dir = home or environ.get("HOME") or environ.get("USERPROFILE")
    if home_dir:
        env["HOME"] = home_dir
    for key, value in entry.env.items():
        env[key] = expand_references(value, environ)
    return env


def _dump(items: list[Any]) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in items]


async def _all_pages(list_page: Callable[..., Awaitable[Any]], key: str) -> list[dict[str, Any]]:
    """Every item of a paginated list call, following nextCursor to the end."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = await list_page(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
        items += _dump(list(getattr(page, key)))
        cursor = page.next_cursor
        if not cursor:
            return items


async def _collect(session: ClientSession, result: Inspection) -> None:
    init = await session.initialize()
    result.server_name = init.server_info.name
    result.server_version = init.server_info.version
    result.instructions = init.instructions
    caps = init.capabilities
    if caps.tools is not None:
        result.tools += await _all_pages(session.list_tools, "tools")
    if caps.prompts is not None:
        result.prompts += await _all_pages(session.list_prompts, "prompts")
    if caps.resources is not None:
        result.resources += await _all_pages(session.list_resources, "resources")
        templates = await session.list_resource_templates()
        result.resource_templates += _dump(list(templates.resource_templates))


async def _inspect_stdio(
    entry: ServerEntry, result: Inspection, env: dict[str, str], environ: Mapping[str, str], errlog: TextIO
) -> None:
    assert entry.command is not None
    params = StdioServerParameters(
        command=entry.command,
        args=[expand_references(a, environ) for a in entry.args],
        env=env,
        cwd=entry.cwd,
    )
    async with (
        stdio_client(params, errlog=errlog) as (read, write),
        ClientSession(read, write, read_timeout_seconds=60) as session,
    ):
        await _collect(session, result)


async def _inspect_http(
    entry: ServerEntry, result: Inspection, timeout: float, environ: Mapping[str, str]
) -> None:
    assert entry.url is not None
    headers = {k: expand_references(v, environ) for k, v in entry.headers.items()}
    url = expand_references(entry.url, environ)
    if entry.transport == "sse":
        async with (
            sse_client(url, headers=headers, timeout=timeout) as (read, write),
            ClientSession(read, write) as session,
        ):
            await _collect(session, result)
        return
    client = create_mcp_http_client(headers=headers, timeout=httpx2.Timeout(timeout))
    async with (
        client,
        streamable_http_client(url, http_client=client) as (read, write),
        ClientSession(read, write) as session,
    ):
        await _collect(session, result)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions[:3])
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if str(exc) else text


async def inspect_server(
    entry: ServerEntry, *, timeout: float, environ: Mapping[str, str] | None = None, home: str | None = None
) -> Inspection:
    """List a server's tools, prompts and resources; failures come back in `error`."""
    env_source = os.environ if environ is None else environ
    result = Inspection(entry)
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as errlog:
        try:
            with anyio.fail_after(timeout):
                if entry.transport == "stdio":
                    env = scrubbed_environment(entry, env_source, home)
                    await _inspect_stdio(entry, result, env, env_source, errlog)
                else:
                    await _inspect_http(entry, result, timeout, env_source)
        except TimeoutError:
            result.error = f"no complete answer within {timeout:g}s"
        except Exception as exc:
            result.error = _describe(exc)
        if result.error:
            errlog.seek(0)
            tail = errlog.read()[-_STDERR_TAIL:].strip()
            if tail:
                result.error += f" (stderr: {tail})"
    return result


async def inspect_all(
    entries: list[ServerEntry],
    *,
    timeout: float,
    environ: Mapping[str, str] | None = None,
    home: str | None = None,
    on_progress: ProgressHook | None = None,
) -> list[Inspection]:
    """Inspect servers one after the other; `on_progress` hears of each start and end."""
    results: list[Inspection] = []
    for entry in entries:
        if on_progress is not None:
            on_progress(entry, None, len(entries))
        result = await inspect_server(entry, timeout=timeout, environ=environ, home=home)
        results.append(result)
        if on_progress is not None:
            on_progress(entry, result, len(entries))
    return results
