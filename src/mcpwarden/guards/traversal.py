"""One walk over any JSON message: every string leaf, where it is, and what kind of text it is.

The content guard does not keep a list of the fields each MCP method carries: a server
can put text a model or a user reads almost anywhere (`_meta`, `annotations`, error
`data`, a `resource_link` description, a field a future revision adds). So every message
is walked generically and each string leaf is classified by its key:

* **structural**: protocol plumbing that must reach the peer byte for byte (`jsonrpc`,
  `method`, `id`, `progressToken`, cursors, `protocolVersion`, `type`). Never rewritten.
* **binary**: base64 payloads (`blob`, and `data` of image/audio items). Not text, never
  scanned; redacting inside them would only corrupt the bytes.
* **identifier**: values a program reads rather than a model (`uri`, `mimeType`, `url`,
  JSON-Schema `type`/`format`/`pattern`, ...). Redacted for secrets, not injection-scanned.
* **natural**: everything else, including every key the walker has never heard of.
  These get the injection scan as well as redaction. Defaulting unknown fields to
  natural language is what makes a field added by a future revision covered.

Dict keys are not leaves: they are names a program chose, and rewriting them would break
the message. The walk is iterative and bounded in depth and in leaves (a hostile message
exceeding either is refused, never half-scanned).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import orjson

Kind = Literal["structural", "binary", "identifier", "natural"]

MAX_DEPTH = 64
MAX_LEAVES = 200_000

STRUCTURAL_KEYS = frozenset(
    {
        "jsonrpc",
        "method",
        "id",
        "requestId",
        "progressToken",
        "cursor",
        "nextCursor",
        "protocolVersion",
        "type",
        "role",
        "level",
        "stopReason",
        "action",
    }
)
IDENTIFIER_KEYS = frozenset(
    {
        "uri",
        "uriTemplate",
        "mimeType",
        "url",
        "href",
        "src",
        "sizes",
        "theme",
        "format",
        "pattern",
        "$schema",
        "$ref",
        "$id",
        "lastModified",
        "logger",
        "model",
        "version",
        "audience",
        "required",
        "websiteUrl",
        "elicitationId",
    }
)
_BINARY_ITEM_TYPES = frozenset({"image", "audio"})
_PLAIN_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


class TooComplex(ValueError):
    """The message is deeper or has more strings than the walk is allowed to visit."""


@dataclass(frozen=True, slots=True)
class Leaf:
    """One string in a message: its JSON path, its location as keys, and its classification."""

    path: str
    location: tuple[str | int, ...]
    text: str
    kind: Kind


def _child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}"
    return f"{path}[{orjson.dumps(key[:64]).decode()}]"


def classify(key: str | int | None, parent: Any, *, in_schema: bool = False) -> Kind:
    """The kind of the string found under `key` in `parent` (see the module docstring)."""
    if isinstance(key, int) or key is None:
        # An element of a list: `required`/`enum` of a schema are names; other lists inherit nothing.
        return "natural"
    if key == "blob" or (
        key == "data" and isinstance(parent, dict) and parent.get("type") in _BINARY_ITEM_TYPES
    ):
        return "binary"
    if in_schema and key in {"type", "format", "pattern", "$ref", "$schema", "$id"}:
        return "identifier"
    if key in STRUCTURAL_KEYS:
        return "structural"
    if key in IDENTIFIER_KEYS:
        return "identifier"
    return "natural"


def walk(value: Any, root: str = "$") -> Iterator[Leaf]:
    """Every string leaf of `value`, depth first in document order.

    Raises `TooComplex` past `MAX_DEPTH` levels or `MAX_LEAVES` strings. Strings in a list
    take the kind their list would have as a value (the items of `required` are names).
    """
    # (value, path, location, key, parent, depth, in_schema)
    stack: list[tuple[Any, str, tuple[str | int, ...], str | int | None, Any, int, bool]] = [
        (value, root, (), None, None, 0, False)
    ]
    leaves = 0
    while stack:
        node, path, loc, key, parent, depth, in_schema = stack.pop()
        if isinstance(node, str):
            leaves += 1
            if leaves > MAX_LEAVES:
                raise TooComplex(f"message has more than {MAX_LEAVES} strings")
            kind = classify(key, parent, in_schema=in_schema)
            yield Leaf(path, loc, node, kind)
        elif isinstance(node, dict):
            if depth >= MAX_DEPTH:
                raise TooComplex(f"message is nested deeper than {MAX_DEPTH} levels")
            schema = in_schema or key in {"inputSchema", "outputSchema", "requestedSchema", "properties"}
            for k in reversed(list(node)):
                stack.append((node[k], _child_path(path, k), (*loc, k), k, node, depth + 1, schema))
        elif isinstance(node, list):
            if depth >= MAX_DEPTH:
                raise TooComplex(f"message is nested deeper than {MAX_DEPTH} levels")
            for i in range(len(node) - 1, -1, -1):
                # list items are classified by the list's own key (e.g. `required`, `audience`)
                stack.append((node[i], _child_path(path, i), (*loc, i), key, parent, depth + 1, in_schema))


def replace_leaves(value: Any, edits: dict[tuple[str | int, ...], str]) -> Any:
    """A copy of `value` with the strings at the given locations replaced.

    Only the containers on the way to an edited leaf are copied; everything else is shared
    with `value`, so a large result with one redaction costs one path of copies.
    """
    if not edits:
        return value
    if () in edits:
        return edits[()]
    tree: dict[Any, Any] = {}
    for loc, text in edits.items():
        node = tree
        for part in loc[:-1]:
            node = node.setdefault(part, {})
        node[loc[-1]] = text
    return _apply(value, tree)


def _apply(value: Any, tree: dict[Any, Any]) -> Any:
    if isinstance(value, dict):
        out = dict(value)
    elif isinstance(value, list):
        out = list(value)  # type: ignore[assignment]
    else:
        return value
    for part, sub in tree.items():
        if isinstance(sub, str):
            out[part] = sub
        else:
            out[part] = _apply(out[part], sub)
    return out
