"""A tool renamed with an identical definition is reported as a rename, not as an unrelated
new tool, through the real gateway."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from integrity_kit import denied, names, rig, wait_audit

from gwtest.client import sdk_session

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def pinning(reason: str) -> Any:
    return lambda r: r.get("guard") == "pinning" and r.get("reason") == reason


async def test_renamed_tool_with_identical_definition_is_reported_as_a_rename(tmp_path: Path) -> None:
    with rig(tmp_path, "tofu", "http") as r:
        async with sdk_session(r.url) as (s, _):
            await s.list_tools()
            await s.call_tool("flip", {"to": "renamed"})
            assert names(await s.list_tools()) == {"define_word", "flip"}
            record = wait_audit(r.gw, pinning("pin.renamed"))
    assert record["event"] == "alert"
    renamed = record["details"]["renamed"]
    assert [(x["from"], x["to"]) for x in renamed] == [("lookup", "define_word")]
    assert "lookup -> define_word" in record["message"]


async def test_approve_mode_holds_a_renamed_tool_and_names_its_old_name(tmp_path: Path) -> None:
    with rig(tmp_path, "approve", "http") as r:
        async with sdk_session(r.url) as (s, _):
            await r.trust(s)
            await s.call_tool("flip", {"to": "renamed"})
            assert names(await s.list_tools()) == {"flip"}
            err = await denied(s.call_tool("define_word", {"word": "x"}))
            record = wait_audit(r.gw, pinning("pin.quarantined"))
    assert err.data["reason"] == "pin.unapproved"  # type: ignore[index]
    entry = next(e for e in record["details"]["quarantined"] if e["name"] == "define_word")
    assert entry["renamed_from"] == "lookup"
    assert record["details"]["renamed"][0]["from"] == "lookup"
