"""The guard pipeline: order, rewrite chaining, denial, and audit of every non-pass outcome."""

from __future__ import annotations

from typing import Any

import pytest

from mcpwarden.gateway.pipeline import Pipeline
from mcpwarden.guards.base import Guard
from mcpwarden.types import JSON, Decision, Denied, Exchange

pytestmark = pytest.mark.anyio


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def write(self, event: dict[str, Any]) -> None:
        self.events.append(event)


class Upper(Guard):
    name = "upper"

    async def tool_result(self, ex: Exchange, result: JSON) -> Decision | None:
        return Decision.rewrite({"text": result["text"].upper()}, "test.upper")


class Exclaim(Guard):
    name = "exclaim"

    async def tool_result(self, ex: Exchange, result: JSON) -> Decision | None:
        return Decision.rewrite({"text": result["text"] + "!"}, "test.exclaim")


class Deny(Guard):
    name = "deny"

    async def tool_call(self, ex: Exchange, params: JSON) -> Decision | None:
        return Decision.deny("test.no", "never")


class Watch(Guard):
    name = "watch"
    calls = 0

    async def tool_call(self, ex: Exchange, params: JSON) -> Decision | None:
        Watch.calls += 1
        return Decision.alert("test.look", "looked")


def _ex() -> Exchange:
    return Exchange("tools/call", "up", tool="t")


async def test_rewrites_chain_in_guard_order() -> None:
    out = await Pipeline([Upper(), Exclaim()]).run("tool_result", _ex(), {"text": "hi"})
    assert out == {"text": "HI!"}


async def test_deny_stops_the_chain_and_names_the_guard() -> None:
    Watch.calls = 0
    with pytest.raises(Denied) as info:
        await Pipeline([Deny(), Watch()]).run("tool_call", _ex(), {})
    assert info.value.guard == "deny" and info.value.decision.reason == "test.no"
    assert Watch.calls == 0


async def test_only_guards_overriding_a_hook_are_called() -> None:
    pipeline = Pipeline([Upper(), Deny()])
    assert pipeline.has("tool_result") and pipeline.has("tool_call") and not pipeline.has("tools_list")
    assert await pipeline.run("tools_list", _ex(), {"tools": []}) == {"tools": []}


async def test_every_non_pass_outcome_is_audited_with_the_guard_name() -> None:
    audit = Recorder()
    await Pipeline([Watch(), Upper()], audit).run("tool_call", _ex(), {})
    await Pipeline([Watch(), Upper()], audit).run("tool_result", _ex(), {"text": "a"})
    assert [(e["guard"], e["decision"], e["reason"]) for e in audit.events] == [
        ("watch", "alert", "test.look"),
        ("upper", "rewrite", "test.upper"),
    ]
    assert audit.events[0]["event"] == "alert" and audit.events[0]["details"]["hook"] == "tool_call"


async def test_alert_passes_the_payload_unchanged() -> None:
    assert await Pipeline([Watch()]).run("tool_call", _ex(), {"a": 1}) == {"a": 1}


async def test_upstream_scoped_guard_runs_only_for_its_upstreams() -> None:
    from mcpwarden.guards.scoped import UpstreamScoped

    pipeline = Pipeline([UpstreamScoped(Upper(), {"up"})])
    assert pipeline.has("tool_result") and not pipeline.has("tool_call")
    assert await pipeline.run("tool_result", _ex(), {"text": "a"}) == {"text": "A"}
    other = Exchange("tools/call", "elsewhere", tool="t")
    assert await pipeline.run("tool_result", other, {"text": "a"}) == {"text": "a"}
