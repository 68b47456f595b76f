"""The minimal edits `init --apply` makes to client configs (see commands/client_edit.py)."""

from __future__ import annotations

import pytest

from mcpwarden.commands.client_edit import EditError, WrapEdit, edit_json, edit_toml

PREFIX = ("wrap", "--name", "s", "--", "npx")
EDIT = WrapEdit(("servers", "s"), "mcpwarden", PREFIX)


def test_a_compact_args_array_stays_compact() -> None:
    text = '{"servers":{"s":{"command":"npx","args":["-y","pkg"]}}}'
    assert edit_json(text, [EDIT], jsonc=False) == (
        '{"servers":{"s":{"command":"mcpwarden","args":["wrap","--name","s","--","npx","-y","pkg"]}}}'
    )


def test_missing_args_are_added_on_their_own_line_after_the_command() -> None:
    text = '{\n  "servers": {\n    "s": {\n      "command": "npx"\n    }\n  }\n}\n'
    assert edit_json(text, [EDIT], jsonc=False) == (
        '{\n  "servers": {\n    "s": {\n      "command": "mcpwarden",\n'
        '      "args": ["wrap", "--name", "s", "--", "npx"]\n    }\n  }\n}\n'
    )


def test_empty_or_null_args_are_replaced_by_the_wrap_arguments() -> None:
    for args in ("[]", "null"):
        text = f'{{"servers": {{"s": {{"command": "npx", "args": {args}}}}}}}'
        assert edit_json(text, [EDIT], jsonc=False).endswith(
            '"args": ["wrap", "--name", "s", "--", "npx"]}}}'
        )


def test_a_byte_order_mark_is_kept() -> None:
    text = '\ufeff{"servers": {"s": {"command": "npx"}}}'
    assert edit_json(text, [EDIT], jsonc=True).startswith('\ufeff{"servers": {"s": {"command": "mcpwarden"')


def test_args_that_are_not_a_list_refuse_the_edit() -> None:
    with pytest.raises(EditError, match=r"servers\.s\.args is not a list"):
        edit_json('{"servers": {"s": {"command": "npx", "args": "pkg"}}}', [EDIT], jsonc=False)


def test_a_server_that_is_not_there_refuses_the_edit() -> None:
    with pytest.raises(EditError, match=r"no server object at servers\.s"):
        edit_json('{"servers": {}}', [EDIT], jsonc=False)


def test_comments_are_accepted_only_in_jsonc() -> None:
    text = '{"servers": {"s": {"command": "npx"}}} // note'
    assert edit_json(text, [EDIT], jsonc=True).endswith("// note")
    with pytest.raises(EditError, match="not valid JSON"):
        edit_json(text, [EDIT], jsonc=False)


def test_toml_inline_table_servers_are_edited_in_place() -> None:
    text = '[mcp_servers]\ns = { command = "npx", args = ["pkg"] }  # mine\n'
    edit = WrapEdit(("mcp_servers", "s"), "mcpwarden", PREFIX)
    assert edit_toml(text, [edit]) == (
        '[mcp_servers]\ns = { command = "mcpwarden", args = ["wrap", "--name", "s", "--", "npx", "pkg"] }'
        "  # mine\n"
    )


def test_invalid_toml_refuses_the_edit() -> None:
    with pytest.raises(EditError, match="not valid TOML"):
        edit_toml("[mcp_servers.s\ncommand = 1\n", [WrapEdit(("mcp_servers", "s"), "mcpwarden", PREFIX)])
