from __future__ import annotations

import json

import pytest

from mcpwarden.scan.jsonc import JsonSyntaxError, parse


def test_plain_json_matches_the_standard_parser() -> None:
    text = '{"a": [1, 2.5, -3e2, true, false, null], "b": {"c": "x\\u00e9\\n"}}'
    assert parse(text).value == json.loads(text)


def test_key_lines_point_at_each_key() -> None:
    doc = parse('{\n  "mcpServers": {\n    "one": {},\n\n    "two": {"command": "x"}\n  }\n}')
    assert doc.line_of(("mcpServers",)) == 2
    assert doc.line_of(("mcpServers", "one")) == 3
    assert doc.line_of(("mcpServers", "two", "command")) == 5


def test_array_items_get_their_own_lines() -> None:
    doc = parse('{"args": [\n "-y",\n "pkg"\n]}')
    assert doc.line_of(("args", 0)) == 2
    assert doc.line_of(("args", 1)) == 3


def test_comments_and_trailing_commas_are_accepted_in_jsonc_mode() -> None:
    text = '{\n // line\n "a": 1, /* block\n comment */ "b": [1, 2,],\n}'
    assert parse(text, comments=True, trailing_commas=True).value == {"a": 1, "b": [1, 2]}


def test_comments_are_rejected_in_strict_mode() -> None:
    with pytest.raises(JsonSyntaxError):
        parse('{"a": 1 // no\n}')


def test_syntax_error_reports_line_and_column() -> None:
    with pytest.raises(JsonSyntaxError) as info:
        parse('{\n  "a": 1\n  "b": 2\n}')
    assert info.value.line == 3
    assert info.value.column == 3


def test_comment_marker_inside_a_string_is_text() -> None:
    assert parse('{"url": "https://x/*y*/"}', comments=True).value == {"url": "https://x/*y*/"}


def test_escaped_quote_does_not_end_a_string() -> None:
    assert parse(r'{"a": "say \"hi\"\\"}').value == {"a": 'say "hi"\\'}


def test_unterminated_comment_is_an_error() -> None:
    with pytest.raises(JsonSyntaxError):
        parse('{"a": 1 /* open', comments=True)


def test_deep_nesting_is_refused_instead_of_overflowing_the_stack() -> None:
    with pytest.raises(JsonSyntaxError, match="too deep"):
        parse("[" * 5000 + "]" * 5000)


def test_byte_order_mark_is_ignored() -> None:
    assert parse('\ufeff{"a": 1}').value == {"a": 1}
