"""The result cap measures a result once, whichever representations it carries."""

from __future__ import annotations

import asyncio

import orjson

from mcpwarden.guards.result_size import ResultSizeGuard, result_size
from mcpwarden.types import Exchange

TEXT = "x" * 650_000


def _file_read() -> dict[str, object]:
    """What server-filesystem answers for read_text_file: the text as content and as structuredContent."""
    return {"content": [{"type": "text", "text": TEXT}], "structuredContent": {"content": TEXT}}


def test_content_and_structured_content_count_once() -> None:
    result = _file_read()
    assert len(orjson.dumps(result)) > 1_048_576
    assert 650_000 < result_size(result) < 651_000


def test_a_650_kb_file_read_passes_the_default_cap() -> None:
    guard = ResultSizeGuard({"fs": 1_048_576})
    assert asyncio.run(guard.tool_result(Exchange("tools/call", "fs"), _file_read())) is None


def test_the_larger_representation_is_the_one_counted() -> None:
    result = {"content": [], "structuredContent": {"rows": "y" * 2_000_000}, "isError": False}
    decision = asyncio.run(
        ResultSizeGuard({"fs": 1_048_576}).tool_result(Exchange("tools/call", "fs"), result)
    )
    assert decision is not None and decision.kind == "deny" and decision.reason == "result.too_large"
    assert decision.details is not None and decision.details["size"] > 2_000_000


def test_a_result_without_both_is_its_serialized_size() -> None:
    result = {"contents": [{"uri": "file:///a", "text": "abc"}]}
    assert result_size(result) == len(orjson.dumps(result))


def test_the_reader_accepts_a_reply_holding_a_capped_result_twice() -> None:
    from mcpwarden.gateway.upstream.limits import read_cap

    result = _file_read()
    assert read_cap("tools/call", 8 * 1_048_576, 1_048_576) > len(orjson.dumps(result))
