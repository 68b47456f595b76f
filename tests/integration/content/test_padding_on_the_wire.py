"""Padding does not hide an injection: the whole result is scanned through the real gateway.

An upstream (tests/fixtures/padded_server.py, official SDK) returns 100 KB, 500 KB or
900 KB of ordinary prose with the usual injection right after it, the way a hostile
server would push its payload past a detector that reads only the first part of a text.
With `on_injection: block` the gateway refuses the call, and the audit record names the
JSON path of the injected string and where in it the injection starts. The same prose
without the injection reaches the SDK client byte for byte.

`block_threshold` is off, so the refusal can only come from the injection being flagged
and `on_injection: block`; spotlighting is `flagged`, so a clean result is not wrapped and
can be compared exactly. The SDK puts the returned string in `structuredContent` as well;
the result cap counts it once, so 900 KB stays under the default cap of 1 MiB.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import TextContent

from fixtures.padded_server import INJECTION, SEPARATOR, prose
from gwtest.client import sdk_session
from gwtest.procs import FIXTURES, PYTHON, Gateway, gateway

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SERVER = FIXTURES / "padded_server.py"
UPSTREAM = "padded"
SIZES_KB = [100, 500, 900]
TEXT_PATH = "$.result.content[0].text"


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    upstream = {
        "transport": "stdio",
        "command": PYTHON,
        "args": [str(SERVER)],
        # Scanning 900 KB takes seconds on a loaded machine; the upstream limit must not
        # be what ends the call.
        "timeout_s": 240,
        "content": {"on_injection": "block", "block_threshold": None, "spotlight": "flagged"},
    }
    with gateway({"upstreams": {UPSTREAM: upstream}}) as g:
        yield g


def _new_denials(gw: Gateway, before: int) -> list[dict[str, Any]]:
    """The content guard's refusals for this upstream written since the audit had `before`
    records (its decision events; the request's summary record repeats only the verdict)."""
    return [
        r
        for r in gw.audit()[before:]
        if r.get("event") == "decision"
        and r.get("guard") == "content"
        and r.get("decision") == "deny"
        and r.get("upstream") == UPSTREAM
    ]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("kb", SIZES_KB)
async def test_injection_after_padding_is_blocked_and_audited_at_its_path(gw: Gateway, kb: int) -> None:
    before = len(gw.audit())
    async with sdk_session(gw.url(UPSTREAM)) as (s, _):
        with pytest.raises(MCPError) as info:
            await s.call_tool("padded", {"kb": kb, "inject": True})
    assert info.value.error.data["reason"] == "content.injection"  # type: ignore[index]
    assert INJECTION not in str(info.value.error.model_dump())
    denials = _new_denials(gw, before)
    assert len(denials) == 1 and denials[0]["reason"] == "content.injection"
    details = denials[0]["details"]
    assert TEXT_PATH in details["paths"]
    # The finding points past the padding, at the injection itself.
    injection_at = len(prose(kb)) + len(SEPARATOR)
    starts = [
        f["span"][0]
        for f in details["findings"]
        if f["path"] == TEXT_PATH and f["rule"] == "injection.override.ignore-previous"
    ]
    assert starts == [injection_at]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("kb", SIZES_KB)
async def test_the_same_padding_without_an_injection_passes_unchanged(gw: Gateway, kb: int) -> None:
    before = len(gw.audit())
    async with sdk_session(gw.url(UPSTREAM)) as (s, _):
        result = await s.call_tool("padded", {"kb": kb, "inject": False})
    assert result.is_error is not True
    assert [c.text for c in result.content if isinstance(c, TextContent)] == [prose(kb)]
    assert len(result.content) == 1
    assert result.structured_content == {"result": prose(kb)}  # the text twice, under the cap
    assert not any(r.get("decision") == "deny" for r in gw.audit()[before:])
