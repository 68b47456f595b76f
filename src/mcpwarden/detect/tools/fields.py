"""Walk an MCP tool object and yield every string a model will read, with its JSON path.

Poisoning hides anywhere the client forwards to the model: parameter descriptions, defaults,
enum values, output schemas, annotations. Structural schema keywords (`type`, `format`,
`required`...) are skipped because they are constrained by JSON Schema, and property names
are reported separately because they are identifiers rather than prose.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import re2

FieldKind = Literal["name", "title", "description", "param_name", "param_text", "value", "annotation"]

# Keywords whose string values are structure, not text for the model.
_STRUCTURAL = frozenset(
    {
        "type",
        "format",
        "$schema",
        "$id",
        "$ref",
        "required",
        "additionalProperties",
        "pattern",
        "contentEncoding",
        "contentMediaType",
        "$anchor",
        "$dynamicRef",
        "dependentRequired",
    }
)
_PLAIN_KEY = re2.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
MAX_DEPTH = 32
MAX_FIELDS = 2000


@dataclass(frozen=True, slots=True)
class TextField:
    path: str
    text: str
    kind: FieldKind
    in_param: bool = False


def child_path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if _PLAIN_KEY.match(key):
        return f"{parent}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{parent}['{escaped}']"


def iter_fields(tool: dict[str, Any]) -> Iterator[TextField]:
    """All model-visible strings of a tool, in a stable order, bounded in count and depth."""
    for count, item in enumerate(_iter_tool(tool), 1):
        yield item
        if count >= MAX_FIELDS:
            return


def _iter_tool(tool: dict[str, Any]) -> Iterator[TextField]:
    name = tool.get("name")
    if isinstance(name, str):
        yield TextField("$.name", name, "name")
    for key in ("title", "description"):
        value = tool.get(key)
        if isinstance(value, str):
            yield TextField(f"$.{key}", value, "title" if key == "title" else "description")
    for key in ("inputSchema", "outputSchema"):
        schema = tool.get(key)
        if isinstance(schema, dict):
            yield from _iter_schema(schema, f"$.{key}", 0, in_param=False)
    annotations = tool.get("annotations")
    if isinstance(annotations, dict):
        yield from _iter_any(annotations, "$.annotations", 0, "annotation")
    for key, value in tool.items():
        if key in ("name", "title", "description", "inputSchema", "outputSchema", "annotations", "_meta"):
            continue
        yield from _iter_any(value, child_path("$", key), 0, "value")


def _iter_any(value: Any, path: str, depth: int, kind: FieldKind) -> Iterator[TextField]:
    if depth > MAX_DEPTH:
        return
    if isinstance(value, str):
        yield TextField(path, value, kind)
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str):
                yield from _iter_any(v, child_path(path, k), depth + 1, kind)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _iter_any(v, child_path(path, i), depth + 1, kind)


def _iter_schema(schema: dict[str, Any], path: str, depth: int, *, in_param: bool) -> Iterator[TextField]:
    if depth > MAX_DEPTH:
        return
    for key, value in schema.items():
        if not isinstance(key, str) or key in _STRUCTURAL:
            continue
        here = child_path(path, key)
        if key in ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas"):
            if isinstance(value, dict):
                for prop, sub in value.items():
                    if not isinstance(prop, str):
                        continue
                    prop_path = child_path(here, prop)
                    if key == "properties":
                        yield TextField(prop_path, prop, "param_name", in_param=True)
                    if isinstance(sub, dict):
                        yield from _iter_schema(sub, prop_path, depth + 1, in_param=True)
        elif key in ("items", "additionalItems", "not", "if", "then", "else", "contains", "propertyNames"):
            if isinstance(value, dict):
                yield from _iter_schema(value, here, depth + 1, in_param=in_param)
            elif isinstance(value, list):
                for i, sub in enumerate(value):
                    if isinstance(sub, dict):
                        yield from _iter_schema(sub, child_path(here, i), depth + 1, in_param=in_param)
        elif key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            if isinstance(value, list):
                for i, sub in enumerate(value):
                    if isinstance(sub, dict):
                        yield from _iter_schema(sub, child_path(here, i), depth + 1, in_param=in_param)
        elif key in ("description", "title", "$comment"):
            if isinstance(value, str):
                yield TextField(here, value, "param_text" if in_param else "description", in_param=in_param)
        else:
            # default, enum, examples, const and unknown keywords: any string a client may show.
            yield from _iter_any(value, here, depth + 1, "value")
