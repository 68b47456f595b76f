"""Rug pulls through the real gateway: a server changes a tool's description mid-session and
announces it with `notifications/tools/list_changed`; the client can never call the changed
tool until an operator runs `mcpwarden pins approve`, and the gateway keeps running."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from integrity_kit import DENIED, UPSTREAM, Rig, denied, names, raw_call, rig, text_of, wait_audit

from gwtest.client import sdk_session
from mcpwarden.pinning import definition_hash

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

# Every pinning mode that trusts a definition once it is approved, over both transports.
SETUPS = [("tofu", "http"), ("approve", "http"), ("tofu", "stdio")]


@pytest.fixture(params=SETUPS, ids=["-".join(s) for s in SETUPS])
def rug(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    mode, transport = request.param
    with rig(tmp_path, mode, transport) as r:
        yield r


@pytest.fixture()
def tofu(tmp_path: Path) -> Iterator[Rig]:
    with rig(tmp_path, "tofu", "http") as r:
        yield r


def quarantined(record: dict[str, object]) -> bool:
    return record.get("guard") == "pinning" and record.get("reason") == "pin.quarantined"


async def test_rug_pulled_tool_vanishes_from_tools_list(rug: Rig) -> None:
    async with sdk_session(rug.url) as (s, _):
        await rug.trust(s)
        assert text_of(await s.call_tool("lookup", {"word": "cat"})) == "lookup called with word=cat"
        await s.call_tool("flip", {"to": "pulled"})
        assert names(await s.list_tools()) == {"flip"}


async def test_call_to_rug_pulled_tool_is_denied_naming_the_pin(rug: Rig) -> None:
    async with sdk_session(rug.url) as (s, rec):
        await rug.trust(s)
        await s.call_tool("lookup", {"word": "cat"})
        approved = rug.pin("lookup")
        await s.call_tool("flip", {"to": "pulled"})
        # No listing in between: the list_changed notification alone must close the tool.
        err = await denied(s.call_tool("lookup", {"word": "cat"}))
    assert any(getattr(m, "method", None) == "notifications/tools/list_changed" for m in rec.messages)
    assert approved is not None
    assert err.code == DENIED
    assert err.data == {"reason": "pin.unapproved", "guard": "pinning"}
    assert approved.hash[:12] in err.message
    assert f"mcpwarden pins approve {UPSTREAM} lookup" in err.message


async def test_pins_approve_cli_reopens_the_tool_in_the_running_gateway(rug: Rig) -> None:
    pid = rug.gw.proc.pid
    async with sdk_session(rug.url) as (s, _):
        await rug.trust(s)
        await s.call_tool("flip", {"to": "pulled"})
        await denied(s.call_tool("lookup", {"word": "cat"}))
        rug.approve("lookup")
        assert text_of(await s.call_tool("lookup", {"word": "dog"})) == "lookup called with word=dog"
        assert names(await s.list_tools()) == {"lookup", "flip"}
    pin = rug.pin("lookup")
    assert pin is not None and pin.approved_by == "reviewer" and pin.status == "approved"
    assert "<IMPORTANT>" in pin.definition["description"]
    assert rug.gw.proc.poll() is None and rug.gw.proc.pid == pid


async def test_rug_pull_audit_records_the_diff_against_the_pin(tofu: Rig) -> None:
    async with sdk_session(tofu.url) as (s, _):
        original = next(t for t in (await s.list_tools()).tools if t.name == "lookup")
        await s.call_tool("flip", {"to": "pulled"})
        # Wait inside the session: closing it would end the re-check the notification started.
        record = wait_audit(tofu.gw, quarantined)
    entry = next(e for e in record["details"]["quarantined"] if e["name"] == "lookup")
    assert entry["pin"] == definition_hash(original.model_dump(mode="json", by_alias=True, exclude_none=True))
    assert entry["reason"] == "definition changed since it was pinned"
    added = [line for line in entry["diff"].splitlines() if line.startswith("+") and "id_rsa" in line]
    assert added, entry["diff"]
    assert record["upstream"] == UPSTREAM


async def test_client_that_never_lists_cannot_call_the_rug_pulled_tool(tofu: Rig) -> None:
    async with sdk_session(tofu.url) as (s, _):
        await s.list_tools()
        await s.call_tool("flip", {"to": "pulled"})
        wait_audit(tofu.gw, quarantined)
    reply = raw_call(tofu.url, "lookup", {"word": "x"})
    assert reply["error"]["code"] == DENIED
    assert reply["error"]["data"]["reason"] == "pin.unapproved"
    assert "lookup" in reply["error"]["message"]


async def test_pins_diff_cli_shows_a_unified_diff_of_the_rug_pull(tofu: Rig) -> None:
    async with sdk_session(tofu.url) as (s, _):
        await s.list_tools()
        await s.call_tool("flip", {"to": "pulled"})
        wait_audit(tofu.gw, quarantined)
    done = tofu.pins("diff", UPSTREAM, "lookup")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"--- {UPSTREAM}/lookup@") and lines[1].startswith("+++ offered@")
    assert any(line.startswith("@@ ") for line in lines)
    removed = [line for line in lines[2:] if line.startswith("-")]
    added = [line for line in lines[2:] if line.startswith("+")]
    assert any("Look up the definition" in line for line in removed)
    assert any("<IMPORTANT>" in line for line in added) and any("id_rsa" in line for line in added)
    # Every line of the body is context, removal, addition or a hunk header: a real diff.
    assert all(line[:1] in (" ", "-", "+", "@") for line in lines[2:])


async def test_another_sessions_old_definition_does_not_reopen_a_rug_pulled_tool(tmp_path: Path) -> None:
    # Over stdio each session has its own server process; only the first one is flipped.
    with rig(tmp_path, "tofu", "stdio", shared_state=False) as r:
        async with sdk_session(r.url) as (a, _):
            await a.list_tools()
            await a.call_tool("flip", {"to": "pulled"})
            await denied(a.call_tool("lookup", {"word": "cat"}))
            async with sdk_session(r.url) as (b, _):
                assert "lookup" in names(await b.list_tools())
                assert text_of(await b.call_tool("lookup", {"word": "cat"})) == "lookup called with word=cat"
            err = await denied(a.call_tool("lookup", {"word": "cat"}))
    assert err.data["reason"] == "pin.unapproved"  # type: ignore[index]


async def test_approve_mode_hides_new_tools_until_the_cli_approves_them(tmp_path: Path) -> None:
    with rig(tmp_path, "approve", "http") as r:
        async with sdk_session(r.url) as (s, _):
            assert names(await s.list_tools()) == set()
            err = await denied(s.call_tool("lookup", {"word": "cat"}))
            assert err.data["reason"] == "pin.unapproved"  # type: ignore[index]
            r.approve("lookup")
            assert names(await s.list_tools()) == {"lookup"}
            assert text_of(await s.call_tool("lookup", {"word": "cat"})) == "lookup called with word=cat"
    pending = r.pin("flip")
    assert pending is not None and pending.status == "quarantined" and pending.approved_at is None
