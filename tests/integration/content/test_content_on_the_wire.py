"""Content defense through the real gateway: the bundled demo server (official SDK) returns an
e-mail carrying a prompt injection, and notes holding secrets; the SDK client sees them
blocked, spotlighted or redacted as each upstream's config says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import TextContent

from gwtest.client import sdk_session
from gwtest.procs import PYTHON, Gateway, gateway

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

GITHUB_TOKEN = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def notes_upstream(sandbox: Path, content: Any = None) -> dict[str, Any]:
    up: dict[str, Any] = {
        "transport": "stdio",
        "command": PYTHON,
        "args": ["-m", "mcpwarden.demo.server", "--transport", "stdio", "--sandbox", str(sandbox)],
        "env_passthrough": ["HOME"],
    }
    if content is not None:
        up["content"] = content
    return up


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    base = tmp_path_factory.mktemp("notes")
    config = {
        "upstreams": {
            "default": notes_upstream(base / "a"),
            "blocking": notes_upstream(base / "b", {"on_injection": "block"}),
            "toolerr": notes_upstream(base / "c", {"on_injection": "block", "block_as": "tool_error"}),
            "marking": notes_upstream(
                base / "d",
                {"on_injection": "annotate", "block_threshold": None, "spotlight_mode": "datamark"},
            ),
            "plain": notes_upstream(base / "e", "off"),
        }
    }
    with gateway(config) as g:
        yield g


def _text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


async def test_injected_email_is_blocked_as_a_json_rpc_error_when_configured(gw: Gateway) -> None:
    async with sdk_session(gw.url("blocking")) as (s, _):
        with pytest.raises(MCPError) as info:
            await s.call_tool("check_inbox", {})
    assert info.value.error.data["reason"] == "content.injection"  # type: ignore[index]
    assert any(r.get("guard") == "content" and r.get("decision") == "deny" for r in gw.audit())


async def test_injected_email_is_blocked_as_a_tool_error_result_when_configured(gw: Gateway) -> None:
    async with sdk_session(gw.url("toolerr")) as (s, _):
        result = await s.call_tool("check_inbox", {})
    assert result.is_error is True
    assert "ignore all previous instructions" not in _text(result).lower()


async def test_default_policy_blocks_a_blatant_injection(gw: Gateway) -> None:
    async with sdk_session(gw.url("default")) as (s, _):
        with pytest.raises(MCPError) as info:
            await s.call_tool("check_inbox", {})
    assert info.value.error.data["guard"] == "content"  # type: ignore[index]


async def test_annotate_mode_warns_and_spotlights_the_injected_email(gw: Gateway) -> None:
    async with sdk_session(gw.url("marking")) as (s, _):
        text = _text(await s.call_tool("check_inbox", {}))
    assert "prompt injection" in text.lower()  # the warning block
    assert "ignore" in text.lower()  # content still there, but marked as data


async def test_ordinary_results_are_spotlighted_by_default(gw: Gateway) -> None:
    async with sdk_session(gw.url("default")) as (s, _):
        text = _text(await s.call_tool("search_notes", {"query": "gateway"}))
    assert "untrusted data" in text


async def test_content_defense_off_relays_results_unchanged(gw: Gateway) -> None:
    async with sdk_session(gw.url("plain")) as (s, _):
        text = _text(await s.call_tool("check_inbox", {}))
    assert "ignore all previous instructions" in text and "untrusted data" not in text


async def test_secret_in_a_tool_result_is_redacted(gw: Gateway) -> None:
    async with sdk_session(gw.url("default")) as (s, _):
        saved = _text(await s.call_tool("add_note", {"title": "deploy", "body": f"token: {GITHUB_TOKEN}"}))
        # The reply is spotlighted: the note's name is the line inside the data boundary.
        name = next(line for line in saved.splitlines() if line and not line.startswith(("<<", "The ")))
        text = _text(await s.call_tool("read_note", {"path": name.strip()}))
    assert GITHUB_TOKEN not in text
    assert "REDACTED" in text
