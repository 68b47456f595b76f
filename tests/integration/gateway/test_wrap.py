"""`mcpwarden wrap -- COMMAND`: the official SDK client speaks stdio to the wrapper, which
runs the real server as its child with the same pipeline and audit as the gateway."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import get_default_environment, stdio_client
from mcp.shared.exceptions import MCPError
from mcp.types import TextContent

from gwtest.procs import FEATURES_SERVER, PYTHON

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


# Without -c the wrapper keeps pins and audit under $XDG_STATE_HOME: not the user's real one.
STATE_HOME = tempfile.mkdtemp(prefix="mcpw-wrap-state-")


def _params(*wrap_args: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=PYTHON,
        env={**get_default_environment(), "XDG_STATE_HOME": STATE_HOME},
        args=["-m", "mcpwarden", "wrap", *wrap_args, "--", PYTHON, str(FEATURES_SERVER), "--name", "wrapped"],
    )


def _text(result: Any) -> str:
    item = result.content[0]
    assert isinstance(item, TextContent)
    return item.text


async def test_wrapped_server_answers_through_the_wrapper() -> None:
    async with stdio_client(_params()) as (r, w), ClientSession(r, w) as s:
        await s.initialize()
        assert "echo" in {t.name for t in (await s.list_tools()).tools}
        assert "wrapped: hi" in _text(await s.call_tool("echo", {"text": "hi"}))


async def test_wrapper_spotlights_tool_output_by_default() -> None:
    async with stdio_client(_params()) as (r, w), ClientSession(r, w) as s:
        await s.initialize()
        text = _text(await s.call_tool("echo", {"text": "hi"}))
    assert "untrusted data" in text and "<<DATA-" in text


async def test_wrapper_relays_progress_and_sampling() -> None:
    from mcp.types import CreateMessageResult

    from gwtest.client import Recorder  # noqa: F401 - same callbacks as the HTTP tests

    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    async def on_sampling(_ctx: Any, params: Any) -> Any:
        return CreateMessageResult(role="assistant", content=TextContent(type="text", text="42"), model="m")

    async with stdio_client(_params()) as (r, w), ClientSession(r, w, sampling_callback=on_sampling) as s:
        await s.initialize()
        result = await s.call_tool("slow_progress", {"steps": 3}, progress_callback=on_progress)
        assert "done" in _text(result)
        assert "42" in _text(await s.call_tool("ask_model", {"question": "?"}))
    assert seen == [1, 2, 3]


async def test_wrapper_enforces_the_tool_filter_and_audits(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    cfg = tmp_path / "wrap.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "audit": {"path": str(audit), "fsync": "always"},
                "upstreams": {
                    "wrapped": {"transport": "stdio", "command": "ignored", "tools": {"deny": ["crash"]}}
                },
            }
        )
    )
    async with stdio_client(_params("-c", str(cfg))) as (r, w), ClientSession(r, w) as s:
        await s.initialize()
        assert "crash" not in {t.name for t in (await s.list_tools()).tools}
        with pytest.raises(MCPError, match="not allowed"):
            await s.call_tool("crash", {})
    records = [orjson.loads(line) for line in audit.read_bytes().splitlines()]
    denials = [x for x in records if x.get("decision") == "deny" and x.get("guard") == "tool_filter"]
    assert denials and denials[0]["reason"] == "tool.denied"


async def test_wrapper_drops_garbage_lines_from_the_server() -> None:
    async with stdio_client(_params()) as (r, w), ClientSession(r, w) as s:
        await s.initialize()
        assert "after garbage" in _text(await s.call_tool("garbage", {}))
        assert "wrapped: next" in _text(await s.call_tool("echo", {"text": "next"}))


def test_wrapper_answers_malformed_client_input_with_a_parse_error() -> None:
    import subprocess

    cmd = [PYTHON, "-m", "mcpwarden", "wrap", "--", PYTHON, str(FEATURES_SERVER)]
    env = {**os.environ, "XDG_STATE_HOME": STATE_HOME}
    out = subprocess.run(cmd, input=b"not json\n", capture_output=True, timeout=60, check=True, env=env)
    reply = orjson.loads(out.stdout.splitlines()[0])
    assert reply["error"]["code"] == -32700


def test_wrap_without_command_is_a_usage_error() -> None:
    import subprocess

    out = subprocess.run([sys.executable, "-m", "mcpwarden", "wrap"], capture_output=True, timeout=60)
    assert out.returncode == 2 and b"needs a server command" in out.stderr
