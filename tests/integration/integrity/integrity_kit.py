"""Helpers for the tool-integrity tests: the rug-pull server behind a real gateway, the real
`mcpwarden pins` CLI, and waiting for audit records written by the gateway process."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.shared.exceptions import MCPError
from mcp.types import ErrorData, ListToolsResult

from gwtest.procs import FIXTURES, PYTHON, Gateway, gateway, http_server, http_upstream
from gwtest.raw import body_of, open_session, post
from mcpwarden.store import Pin, SQLiteStore

RUGPULL = FIXTURES / "rugpull_server.py"
DENIED = -32003
UPSTREAM = "dict"


def stdio_fixture(profile: str, *extra_args: str, **config: Any) -> dict[str, Any]:
    """A stdio upstream running the fixture server in `profile` (content defense off)."""
    return {
        "transport": "stdio",
        "command": PYTHON,
        "args": [str(RUGPULL), "--profile", profile, *extra_args],
        "content": "off",
        **config,
    }


def run_pins(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real `mcpwarden pins` CLI as its own process, as an operator would."""
    return subprocess.run(
        [PYTHON, "-m", "mcpwarden", "pins", *args, "--store", str(store)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def wait_audit(gw: Gateway, match: Callable[[dict[str, Any]], bool], timeout: float = 15.0) -> dict[str, Any]:
    """The latest audit record that `match`es, waiting for the gateway to write it."""
    deadline = time.monotonic() + timeout
    while True:
        hits = [r for r in gw.audit() if match(r)]
        if hits:
            return hits[-1]
        if time.monotonic() > deadline:
            raise AssertionError(f"no matching audit record; last records: {gw.audit()[-5:]}")
        time.sleep(0.05)


async def denied(call: Awaitable[Any]) -> ErrorData:
    """The JSON-RPC error a call ends with (the test fails if it succeeds)."""
    with pytest.raises(MCPError) as info:
        await call
    return info.value.error


def names(listing: ListToolsResult) -> set[str]:
    return {t.name for t in listing.tools}


def raw_call(url: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Open a session and call `tool` at once, never listing (raw HTTP, as no SDK client would)."""
    body = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    with httpx.Client(timeout=30) as client:
        sid = open_session(client, url)
        reply: dict[str, Any] = body_of(post(client, url, body, **{"mcp-session-id": sid}))
    return reply


def findings_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Every finding a poisoning-guard audit record carries (per tool and cross-server)."""
    details = record.get("details") or {}
    out = [f for tool in details.get("tools") or [] for f in tool.get("findings", [])]
    return out + list(details.get("cross_server") or [])


def text_of(result: Any) -> str:
    return str(result.content[0].text)


@dataclass
class Rig:
    """The rug-pull server behind a running gateway, with the gateway's pin store."""

    gw: Gateway
    store: Path
    mode: str
    transport: str

    @property
    def url(self) -> str:
        return self.gw.url(UPSTREAM)

    def pins(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_pins(self.store, *args)

    def approve(self, name: str) -> None:
        done = self.pins("approve", UPSTREAM, name, "--by", "reviewer")
        assert done.returncode == 0, done.stderr

    def pin(self, name: str) -> Pin | None:
        store = SQLiteStore(self.store)
        try:
            return store.get_pin(UPSTREAM, "tool", name)
        finally:
            store.close()

    async def trust(self, session: ClientSession) -> None:
        """List the tools; in `approve` mode, have the operator approve them first."""
        if names(await session.list_tools()) != {"lookup", "flip"}:
            assert self.mode == "approve"
            self.approve("lookup")
            self.approve("flip")
            assert names(await session.list_tools()) == {"lookup", "flip"}


@contextlib.contextmanager
def rig(
    workdir: Path,
    mode: str = "tofu",
    transport: str = "http",
    *,
    shared_state: bool = True,
    on_poisoning: str = "off",
) -> Iterator[Rig]:
    """Start the rug-pull server (HTTP, or stdio per session) and a gateway in front of it.

    Over stdio every gateway session starts its own server process; `shared_state` makes them
    share the flipped variant through a file, as one HTTP server process shares it in memory.
    The poisoning scan is off unless asked for, so that pinning alone decides.
    """
    policy = {"pinning": mode, "on_poisoning": on_poisoning}
    with contextlib.ExitStack() as stack:
        if transport == "http":
            url, _ = stack.enter_context(http_server(RUGPULL, "--profile", "rugpull"))
            upstream = http_upstream(url, **policy)
        else:
            state = ("--state", str(workdir / "variant")) if shared_state else ()
            upstream = stdio_fixture("rugpull", *state, **policy)
        store = workdir / "pins.sqlite3"
        config = {"upstreams": {UPSTREAM: upstream}, "store": {"path": str(store)}}
        gw = stack.enter_context(gateway(config, workdir=workdir))
        yield Rig(gw, store, mode, transport)
