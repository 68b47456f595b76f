"""Put `mcpwarden wrap` in front of stdio servers inside a client's own config file, changing
nothing else in it.

Client configs are hand-edited files: VS Code's `mcp.json` and `settings.json` are JSON with
comments and trailing commas, `~/.claude.json` is a large file Claude Code rewrites itself,
Codex's `config.toml` has comments and tables in the user's order. Re-serialising any of
them would drop comments and reorder or reformat everything, so `init --apply` changes only
the two values it must (`command`, and `args` gets `wrap --name N -- <old command>` in front
of the old arguments):

- JSON and JSONC: a text edit at the offsets the scanner's own parser (`scan.jsonc`) records.
  No JSONC library on PyPI fits: the round-trip parsers there implement JSON5 (a different
  grammar, which re-emits what it reads in its own style) or are young bindings with no
  track record; the scanner's parser already reads these files for `scan` and `init`, so
  the file is edited with exactly the grammar it was read with.
- TOML: tomlkit, the style-preserving TOML library (comments, order and layout survive).

Every edit is checked before it is returned: the result is parsed again and must equal the
original document with only those servers' `command` and `args` changed. Anything else (a
server whose fields are not plain values, an edit that would not round-trip) raises
`EditError` and the file is left for the user to edit by hand.
"""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mcpwarden.scan.jsonc import JsonPath, JsonSyntaxError, parse


class EditError(Exception):
    """The file cannot be changed safely; the message says why."""


@dataclass(frozen=True, slots=True)
class WrapEdit:
    """One server to wrap: where its object is, the new command, and the arguments that go
    before its own (`wrap --name N -- <its command>`)."""

    path: JsonPath
    command: str
    prefix: tuple[str, ...]


def _expected(original: Any, edits: Sequence[WrapEdit]) -> Any:
    """The original document with only the edited servers' command and args changed."""
    out = copy.deepcopy(original)
    for edit in edits:
        server = out
        for key in edit.path:
            server = server[key]
        server["command"] = edit.command
        old = server.get("args")
        server["args"] = [*edit.prefix, *(old if isinstance(old, list) else [])]
    return out


def _server(value: Any, path: JsonPath) -> dict[str, Any]:
    node = value
    for key in path:
        if not isinstance(node, dict) or key not in node:
            raise EditError(f"no server object at {'.'.join(map(str, path))}")
        node = node[key]
    if not isinstance(node, dict):
        raise EditError(f"{'.'.join(map(str, path))} is not an object")
    if not isinstance(node.get("command"), str):
        raise EditError(f"{'.'.join(map(str, path))}.command is not a string")
    args = node.get("args")
    if args is not None and not isinstance(args, list):
        raise EditError(f"{'.'.join(map(str, path))}.args is not a list")
    return node


def _line_indent(text: str, offset: int) -> str | None:
    """The whitespace before `offset` on its line, or None when something else precedes it."""
    start = text.rfind("\n", 0, offset) + 1
    lead = text[start:offset]
    return lead if lead.strip() == "" else None


def _json_replacements(body: str, doc_spans: Any, edit: WrapEdit) -> list[tuple[int, int, str]]:
    spans: dict[JsonPath, tuple[int, int]] = doc_spans.value_spans
    server = _server(doc_spans.value, edit.path)
    command_at = spans.get((*edit.path, "command"))
    if command_at is None:
        raise EditError("the server is nested too deeply to edit")
    out = [(command_at[0], command_at[1], json.dumps(edit.command, ensure_ascii=False))]
    items = [json.dumps(a, ensure_ascii=False) for a in edit.prefix]
    args = server.get("args")
    args_at = spans.get((*edit.path, "args"))
    if args_at is not None and isinstance(args, list) and args:
        first, first_end = spans[(*edit.path, "args", 0)]
        indent = _line_indent(body, first) if "\n" in body[args_at[0] + 1 : first] else None
        # `["a","b"]` stays without spaces; anything else gets `, ` between items.
        after_first = body[first_end : first_end + 2]
        compact = after_first[:1] == "," and after_first[1:2] not in ("", " ", "\t", "\r", "\n")
        sep = f",\n{indent}" if indent is not None else "," if compact else ", "
        out.append((first, first, sep.join(items) + sep))
    elif args_at is not None:  # `[]` or null
        out.append((args_at[0], args_at[1], "[" + ", ".join(items) + "]"))
    else:
        key_at = doc_spans.key_offsets[(*edit.path, "command")]
        indent = _line_indent(body, key_at)
        lead = f",\n{indent}" if indent is not None else ", "
        out.append((command_at[1], command_at[1], f'{lead}"args": [{", ".join(items)}]'))
    return out


def edit_json(text: str, edits: Sequence[WrapEdit], *, jsonc: bool) -> str:
    """`text` with each server of `edits` wrapped; every other character is kept."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom) :]
    try:
        doc = parse(body, comments=jsonc, trailing_commas=jsonc, spans=True)
    except JsonSyntaxError as exc:
        raise EditError(f"not valid JSON: {exc}") from None
    replacements = sorted(
        (r for edit in edits for r in _json_replacements(body, doc, edit)), key=lambda r: r[0], reverse=True
    )
    for start, end, new in replacements:
        body = body[:start] + new + body[end:]
    try:
        after = parse(body, comments=jsonc, trailing_commas=jsonc).value
    except JsonSyntaxError as exc:  # a bug here must never reach the user's file
        raise EditError(f"the edited file would not parse: {exc}") from None
    if after != _expected(doc.value, edits):
        raise EditError("the edit would change more than the wrapped servers")
    return bom + body


def edit_toml(text: str, edits: Sequence[WrapEdit]) -> str:
    """`text` (a Codex config) with each server of `edits` wrapped, comments and layout kept."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError
    from tomlkit.items import Array

    try:
        original = tomllib.loads(text)
        doc = tomlkit.parse(text)
    except (tomllib.TOMLDecodeError, TOMLKitError) as exc:
        raise EditError(f"not valid TOML: {exc}") from None
    for edit in edits:
        _server(original, edit.path)
        table: Any = doc
        for key in edit.path:
            table = table[key]
        table["command"] = edit.command
        args = table.get("args")
        if isinstance(args, Array) and "\n" in args.as_string():
            # One item per line, maybe with comments: insert ours above, keeping those lines.
            for i, item in enumerate(edit.prefix):
                args.insert(i, item)
        else:
            old = args.unwrap() if isinstance(args, Array) else []
            table["args"] = [*edit.prefix, *old]
    result = tomlkit.dumps(doc)
    try:
        after = tomllib.loads(result)
    except tomllib.TOMLDecodeError as exc:
        raise EditError(f"the edited file would not parse: {exc}") from None
    if after != _expected(original, edits):
        raise EditError("the edit would change more than the wrapped servers")
    return result
