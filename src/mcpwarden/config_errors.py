"""Config validation errors as the user wrote the file, not as pydantic sees the model.

A pydantic error names internal things: the tag of a discriminated union (`stdio`) as a path
segment that is not in the file, validator wrappers (`function-after[...]`), an empty location
for model-level checks, and messages like "Unable to extract tag using discriminator". The
user needs one sentence per problem: the file, the key path as written, what was expected and,
for a misspelt key or value, the closest valid one.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

_VALUE_ERROR = re.compile(r"^(Value|Assertion) error, ")


def describe(exc: ValidationError, raw: Any, source: str, root: type[BaseModel]) -> list[str]:
    """One sentence per error, each starting with `source`."""
    errors = exc.errors(include_url=False)
    paths = [_written_path(err["loc"], raw) for err in errors]
    # A misspelt required key shows up twice (unknown `comand`, missing `command`): the
    # "did you mean" of the first says it all.
    suggested = {
        (tuple(p[:-1]), close)
        for err, p in zip(errors, paths, strict=True)
        if err["type"] == "extra_forbidden" and p
        for close in difflib.get_close_matches(str(p[-1]), _fields_at(root, p[:-1], raw), n=1, cutoff=0.6)
    }
    out: list[str] = []
    for err, path in zip(errors, paths, strict=True):
        if err["type"] == "missing" and path and (tuple(path[:-1]), path[-1]) in suggested:
            continue
        if err["type"].startswith("union_tag"):
            path = [*path, _discriminator(err)]
        where = f"{source}: {_dotted(path)}" if path else source
        out.append(f"{where}: {_what(err, path, raw, root)}")
    return list(dict.fromkeys(out))  # a union can report one mistake twice


def _discriminator(err: Any) -> str:
    return str((err.get("ctx") or {}).get("discriminator", "type")).strip("'\"")


def _written_path(loc: tuple[int | str, ...], raw: Any) -> list[int | str]:
    """Keep the segments that exist in the file; drop union tags and validator wrappers.

    A missing key's own name is the last segment and is kept (it is what the user must add).
    """
    path: list[int | str] = []
    node = raw
    for i, seg in enumerate(loc):
        last = i == len(loc) - 1
        if (isinstance(node, dict) and seg in node) or (
            isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node)
        ):
            path.append(seg)
            node = node[seg]  # type: ignore[index]
        elif last and isinstance(seg, str) and "[" not in seg:
            path.append(seg)
    return path


def _dotted(path: list[int | str]) -> str:
    text = ""
    for seg in path:
        text += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if text else str(seg))
    return text


def _what(err: Any, path: list[int | str], raw: Any, root: type[BaseModel]) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "extra_forbidden":
        allowed = _fields_at(root, path[:-1], raw)
        return f"unknown key {str(path[-1])!r}" + _did_you_mean(
            str(path[-1]), allowed, " (expected one of {})"
        )
    if kind == "missing":
        return f"required key {str(path[-1])!r} is missing" if path else "a required key is missing"
    if kind == "union_tag_not_found":
        tags = _tags_of(root, path[:-1], raw, path[-1])
        return f"required key {path[-1]!r} is missing" + (
            f": one of {', '.join(repr(t) for t in tags)}" if tags else ""
        )
    if kind == "union_tag_invalid":
        got, expected = str(ctx.get("tag")), _quoted_list(str(ctx.get("expected_tags", "")))
        return f"is {got!r}; expected one of {', '.join(repr(e) for e in expected)}" + (
            _did_you_mean(got, expected)
        )
    if kind == "literal_error":
        expected = _quoted_list(str(ctx.get("expected", "")))
        got = err.get("input")
        return f"is {got!r}; expected one of {', '.join(repr(e) for e in expected)}" + _did_you_mean(
            str(got), expected
        )
    message = _VALUE_ERROR.sub("", str(err["msg"]))
    if (
        kind.endswith("_type")
        or kind.endswith("_parsing")
        or kind.startswith(("greater", "less", "too_", "string_"))
    ):
        message = f"{message[0].lower()}{message[1:]}, got {_shown(err.get('input'))}"
    return message.replace("Input should", "should")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _quoted_list(text: str) -> list[str]:
    """`"'a', 'b' or 'c'"` -> ['a', 'b', 'c']."""
    return re.findall(r"'([^']*)'", text)


def _did_you_mean(word: str, choices: list[str], fallback: str = "") -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return fallback.format(", ".join(choices)) if fallback and choices else ""


def _fields_at(root: type[BaseModel], path: list[int | str], raw: Any) -> list[str]:
    model = _model_at(root, path, raw)
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _tags_of(root: type[BaseModel], path: list[int | str], raw: Any, key: int | str) -> list[str]:
    """The values the discriminated union at `path` accepts for `key` (e.g. 'http', 'stdio')."""
    members = _model_at(root, path, raw, want_union=True)
    if not isinstance(members, list):
        return []
    tags: list[str] = []
    for member in members:
        field = member.model_fields.get(str(key))
        if field is not None:
            tags.extend(typing.get_args(field.annotation))
    return tags


def _model_at(root: type[BaseModel], path: list[int | str], raw: Any, *, want_union: bool = False) -> Any:
    """The model class that validates the mapping at `path`, following the raw data through
    dicts, lists and unions (a discriminated union is resolved by the value in the file)."""
    current: Any = root
    node = raw
    for seg in path:
        current = _unwrap(current, node)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(seg))
            if field is None:
                return None
            current = field.annotation
        else:
            origin = typing.get_origin(current)
            if origin in (dict, list):
                current = typing.get_args(current)[-1]
            else:
                return None
        node = node[seg] if isinstance(node, dict | list) and _has(node, seg) else None  # type: ignore[index]
    if want_union:
        members = _members(current)
        return [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
    current = _unwrap(current, node)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _has(node: Any, seg: int | str) -> bool:
    if isinstance(node, dict):
        return seg in node
    return isinstance(seg, int) and 0 <= seg < len(node)


def _members(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_members(arg))
        return out
    return [annotation]


def _unwrap(annotation: Any, node: Any) -> Any:
    """Pick the union member the raw value selects (by `transport`), or the only model."""
    members = [m for m in _members(annotation) if m is not type(None)]
    models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
    if len(models) > 1 and isinstance(node, dict):
        for model in models:
            field = model.model_fields.get("transport")
            if field is not None and node.get("transport") in typing.get_args(field.annotation):
                return model
    if len(models) == 1:
        return models[0]
    generics = [m for m in members if typing.get_origin(m) in (dict, list)]
    return generics[0] if len(generics) == 1 else annotation
