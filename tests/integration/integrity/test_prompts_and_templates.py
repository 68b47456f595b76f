"""Prompts and resource templates are pinned like tools: a server that changes one and
announces `notifications/prompts/list_changed` / `notifications/resources/list_changed` has
it held back until `mcpwarden pins approve --kind ...`, with the gateway running throughout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from integrity_kit import DENIED, denied, run_pins, stdio_fixture
from mcp.shared.exceptions import MCPError

from gwtest.client import sdk_session
from gwtest.procs import Gateway, gateway

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

UP = "lib"


@pytest.fixture()
def lib(tmp_path: Path) -> Iterator[tuple[Gateway, Path]]:
    store = tmp_path / "pins.sqlite3"
    upstream = stdio_fixture(
        "catalog", "--state", str(tmp_path / "variant"), pinning="tofu", on_poisoning="off"
    )
    with gateway({"upstreams": {UP: upstream}, "store": {"path": str(store)}}, workdir=tmp_path) as gw:
        yield gw, store


async def test_rug_pulled_prompt_vanishes_and_get_is_denied_naming_the_pin(lib: tuple[Gateway, Path]) -> None:
    gw, _ = lib
    async with sdk_session(gw.url(UP)) as (s, _):
        assert [p.name for p in (await s.list_prompts()).prompts] == ["summarize"]
        assert (await s.get_prompt("summarize", {"text": "hi"})).messages[0].content.text == "hi"  # type: ignore[union-attr]
        await s.call_tool("flip", {"to": "pulled"})
        err = await denied(s.get_prompt("summarize", {"text": "hi"}))
        assert (await s.list_prompts()).prompts == []
    assert err.code == DENIED
    assert err.data == {"reason": "pin.unapproved", "guard": "pinning"}
    assert f"mcpwarden pins approve {UP} summarize --kind prompt" in err.message


async def test_approved_prompt_change_is_served_without_restart(lib: tuple[Gateway, Path]) -> None:
    gw, store = lib
    async with sdk_session(gw.url(UP)) as (s, _):
        await s.list_prompts()
        await s.call_tool("flip", {"to": "pulled"})
        await denied(s.get_prompt("summarize", {"text": "hi"}))
        done = run_pins(store, "approve", UP, "summarize", "--kind", "prompt", "--by", "reviewer")
        assert done.returncode == 0, done.stderr
        listed = (await s.list_prompts()).prompts
        assert [p.name for p in listed] == ["summarize"] and "<IMPORTANT>" in (listed[0].description or "")
        assert (await s.get_prompt("summarize", {"text": "hi"})).messages[0].content.text == "hi"  # type: ignore[union-attr]
    assert gw.proc.poll() is None


async def test_rug_pulled_resource_template_is_held_back_until_approved(lib: tuple[Gateway, Path]) -> None:
    gw, store = lib
    async with sdk_session(gw.url(UP)) as (s, _):
        assert [t.name for t in (await s.list_resource_templates()).resource_templates] == ["word"]
        await s.call_tool("flip", {"to": "pulled"})
        assert (await s.list_resource_templates()).resource_templates == []
        diff = run_pins(store, "diff", UP, "word", "--kind", "resource_template")
        assert any(line.startswith("+") and "id_rsa" in line for line in diff.stdout.splitlines())
        done = run_pins(store, "approve", UP, "word", "--kind", "resource_template")
        assert done.returncode == 0, done.stderr
        assert [t.name for t in (await s.list_resource_templates()).resource_templates] == ["word"]


async def test_rug_pulled_resource_is_held_back_and_its_read_denied_until_approved(
    lib: tuple[Gateway, Path],
) -> None:
    gw, store = lib
    async with sdk_session(gw.url(UP)) as (s, _):
        assert [str(r.uri) for r in (await s.list_resources()).resources] == ["word://hello"]
        assert "definition of hello" in str(await s.read_resource("word://hello"))  # type: ignore[arg-type]
        await s.call_tool("flip", {"to": "pulled"})
        assert (await s.list_resources()).resources == []
        with pytest.raises(MCPError) as info:
            await s.read_resource("word://hello")  # type: ignore[arg-type]
        assert info.value.error.data["reason"] == "pin.unapproved"  # type: ignore[index]
        assert "--kind resource" in info.value.error.message
        with pytest.raises(MCPError):  # a URI only the held-back template produces
            await s.read_resource("word://other")  # type: ignore[arg-type]
        done = run_pins(store, "approve", UP, "word://hello", "--kind", "resource")
        assert done.returncode == 0, done.stderr
        assert [str(r.uri) for r in (await s.list_resources()).resources] == ["word://hello"]
        assert "definition of hello" in str(await s.read_resource("word://hello"))  # type: ignore[arg-type]
