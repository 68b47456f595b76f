"""Canonical form, hashes and diffs of pinned definitions."""

from __future__ import annotations

import json

import pytest

from mcpwarden.pinning import body_hash, canonical_json, definition_diff, definition_hash


def test_key_order_does_not_change_the_hash() -> None:
    a = {"name": "t", "inputSchema": {"type": "object", "properties": {"x": {"type": "string"}}}}
    b = {"inputSchema": {"properties": {"x": {"type": "string"}}, "type": "object"}, "name": "t"}
    assert definition_hash(a) == definition_hash(b)


def test_whitespace_of_the_wire_form_does_not_change_the_hash() -> None:
    defn = {"name": "t", "description": "d", "inputSchema": {"type": "object"}}
    compact = json.loads(json.dumps(defn, separators=(",", ":")))
    spaced = json.loads(json.dumps(defn, indent=4))
    assert canonical_json(compact) == canonical_json(spaced)


def test_canonical_form_is_compact_sorted_utf8() -> None:
    assert canonical_json({"b": 1, "a": "é\n"}) == '{"a":"é\\n","b":1}'.encode()


def test_keys_sort_by_utf16_code_units() -> None:
    # U+E000 sorts before U+1F600 in UTF-16 (surrogates are 0xD8xx), unlike code-point order.
    assert canonical_json({"\U0001f600": 1, "\ue000": 2}).decode() == '{"\U0001f600":1,"\ue000":2}'


def test_invisible_character_changes_the_hash() -> None:
    assert definition_hash({"description": "ok"}) != definition_hash({"description": "o\u200bk"})


def test_meta_is_not_pinned() -> None:
    assert definition_hash({"name": "t"}) == definition_hash({"name": "t", "_meta": {"progress": 3}})


def test_numbers_use_ecmascript_form() -> None:
    assert canonical_json({"a": 1.0, "b": 1e-7, "c": 2.5, "d": 1e21}) == b'{"a":1,"b":1e-7,"c":2.5,"d":1e+21}'


def test_nan_is_rejected() -> None:
    with pytest.raises(ValueError):
        canonical_json({"a": float("nan")})


def test_hash_is_hex_sha256() -> None:
    h = definition_hash({"name": "t"})
    assert len(h) == 64 and int(h, 16) >= 0


def test_body_hash_ignores_only_the_name() -> None:
    assert body_hash({"name": "a", "description": "d"}) == body_hash({"name": "b", "description": "d"})
    assert body_hash({"name": "a", "description": "d"}) != body_hash({"name": "a", "description": "e"})


def test_diff_shows_changed_line() -> None:
    diff = definition_diff({"name": "t", "description": "old"}, {"name": "t", "description": "new"})
    assert '-  "description": "old",' in diff and '+  "description": "new",' in diff


def test_diff_makes_invisible_characters_visible() -> None:
    diff = definition_diff({"description": "ok"}, {"description": "o\u200bk"})
    assert "\\u{200b}" in diff


def test_diff_of_identical_definitions_is_empty() -> None:
    assert definition_diff({"name": "t"}, {"name": "t"}) == ""
