"""A JSON / JSON-with-comments parser that remembers the line of every object key.

Findings must point at the line of the offending server entry so that editors and
GitHub code scanning can show them in place; the standard `json` module throws that
information away. VS Code's files also allow `//` and `/* */` comments and trailing
commas, which `json` rejects. Strings and numbers are still decoded by `json` so their
semantics match it exactly; only the structure is walked here.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from typing import Any

import re2

JsonPath = tuple[str | int, ...]

_NUMBER = re2.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_WHITESPACE = " \t\r\n"
_MAX_DEPTH = 200
# Keys deeper than this are parsed but not indexed: no client nests servers deeper.
_MAX_INDEXED_DEPTH = 8


class JsonSyntaxError(ValueError):
    """Malformed input, with the 1-based line and column where parsing stopped."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message} (line {line}, column {column})")
        self.reason = message
        self.line = line
        self.column = column


@dataclass(slots=True)
class JsonDocument:
    """A parsed value and the 1-based line on which each object key (by path) appears.

    With `parse(..., spans=True)` it also holds where each value and key is in the text
    (0-based offsets, end exclusive), so that a caller can change one value and leave every
    other byte (comments, trailing commas, indentation) as the user wrote it.
    """

    value: Any
    key_lines: dict[JsonPath, int] = field(default_factory=dict)
    value_spans: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)
    key_offsets: dict[JsonPath, int] = field(default_factory=dict)

    def line_of(self, path: JsonPath) -> int | None:
        return self.key_lines.get(path)


class _Parser:
    def __init__(self, text: str, *, comments: bool, trailing_commas: bool, spans: bool = False) -> None:
        self.text = text
        self.pos = 0
        self.comments = comments
        self.trailing_commas = trailing_commas
        self.spans = spans
        self.key_lines: dict[JsonPath, int] = {}
        self.value_spans: dict[JsonPath, tuple[int, int]] = {}
        self.key_offsets: dict[JsonPath, int] = {}
        self._newlines = [i for i, ch in enumerate(text) if ch == "\n"]

    def line_col(self, pos: int) -> tuple[int, int]:
        line_index = bisect.bisect_left(self._newlines, pos)
        line_start = self._newlines[line_index - 1] + 1 if line_index > 0 else 0
        return line_index + 1, pos - line_start + 1

    def fail(self, message: str, pos: int | None = None) -> JsonSyntaxError:
        line, col = self.line_col(self.pos if pos is None else pos)
        return JsonSyntaxError(message, line, col)

    def skip(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            ch = text[self.pos]
            if ch in _WHITESPACE:
                self.pos += 1
            elif ch == "/" and self.comments and text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end + 1
            elif ch == "/" and self.comments and text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.fail("unterminated comment")
                self.pos = end + 2
            else:
                return

    def value(self, path: JsonPath) -> Any:
        if len(path) > _MAX_DEPTH:
            raise self.fail("nesting too deep")
        self.skip()
        if self.pos >= len(self.text):
            raise self.fail("unexpected end of input")
        if self.spans and len(path) <= _MAX_INDEXED_DEPTH:
            start = self.pos
            result = self._value(path)
            self.value_spans[path] = (start, self.pos)
            return result
        return self._value(path)

    def _value(self, path: JsonPath) -> Any:
        ch = self.text[self.pos]
        if ch == "{":
            return self.obj(path)
        if ch == "[":
            return self.arr(path)
        if ch == '"':
            return self.string()
        for literal, result in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(literal, self.pos):
                self.pos += len(literal)
                return result
        m = _NUMBER.match(self.text, self.pos)
        if m is not None and m.end() > self.pos:
            self.pos = m.end()
            return json.loads(m.group(0))
        raise self.fail(f"unexpected character {ch!r}")

    def string(self) -> str:
        start = self.pos
        end = start + 1
        while True:
            end = self.text.find('"', end)
            if end < 0:
                raise self.fail("unterminated string", start)
            backslashes = 0
            k = end - 1
            while self.text[k] == "\\":
                backslashes += 1
                k -= 1
            if backslashes % 2 == 0:
                break
            end += 1
        self.pos = end + 1
        try:
            decoded: str = json.loads(self.text[start : end + 1])
        except json.JSONDecodeError as exc:
            raise self.fail(f"invalid string: {exc.msg}", start + exc.pos) from None
        return decoded

    def obj(self, path: JsonPath) -> dict[str, Any]:
        self.pos += 1
        out: dict[str, Any] = {}
        self.skip()
        if self.text.startswith("}", self.pos):
            self.pos += 1
            return out
        while True:
            self.skip()
            if not self.text.startswith('"', self.pos):
                if self.trailing_commas and out and self.text.startswith("}", self.pos):
                    self.pos += 1
                    return out
                raise self.fail("expected a string key")
            key_pos = self.pos
            key = self.string()
            self.skip()
            if not self.text.startswith(":", self.pos):
                raise self.fail("expected ':' after key")
            self.pos += 1
            child = (*path, key)
            if len(child) <= _MAX_INDEXED_DEPTH:
                self.key_lines[child] = self.line_col(key_pos)[0]
                if self.spans:
                    self.key_offsets[child] = key_pos
            out[key] = self.value(child)
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith("}", self.pos):
                self.pos += 1
                return out
            raise self.fail("expected ',' or '}'")

    def arr(self, path: JsonPath) -> list[Any]:
        self.pos += 1
        out: list[Any] = []
        self.skip()
        if self.text.startswith("]", self.pos):
            self.pos += 1
            return out
        while True:
            self.skip()
            if self.trailing_commas and out and self.text.startswith("]", self.pos):
                self.pos += 1
                return out
            child = (*path, len(out))
            if len(child) <= _MAX_INDEXED_DEPTH:
                self.key_lines[child] = self.line_col(self.pos)[0]
            out.append(self.value(child))
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith("]", self.pos):
                self.pos += 1
                return out
            raise self.fail("expected ',' or ']'")


def parse(
    text: str, *, comments: bool = False, trailing_commas: bool = False, spans: bool = False
) -> JsonDocument:
    """Parse `text`; `comments`/`trailing_commas` enable the JSONC extensions VS Code accepts.

    Array elements are indexed too (by integer path component) so that a finding about
    one argument can point at its own line. `spans` also records the offsets of values and
    keys (in `text` after a leading byte-order mark, which is skipped).
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    parser = _Parser(text, comments=comments, trailing_commas=trailing_commas, spans=spans)
    value = parser.value(())
    parser.skip()
    if parser.pos != len(text):
        raise parser.fail("unexpected data after the JSON value")
    return JsonDocument(value, parser.key_lines, parser.value_spans, parser.key_offsets)
