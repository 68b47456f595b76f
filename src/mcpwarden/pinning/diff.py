"""A unified diff of two definitions that a reviewer can actually read.

The canonical form is one line, so it is useless for review; the diff is computed over an
indented rendering instead. Invisible and bidi characters are shown as `\\u{...}` escapes,
because a rug pull that only inserts a zero-width or tag character would otherwise show
two identical-looking lines.
"""

from __future__ import annotations

import difflib
import json
import unicodedata
from collections.abc import Mapping
from typing import Any

from mcpwarden.pinning.canonical import pinned_fields


def _visible(text: str) -> str:
    out: list[str] = []
    for ch in text:
        cp = ord(ch)
        cat = unicodedata.category(ch)
        if cat in ("Cf", "Co", "Cs", "Cn") or (cat == "Cc" and ch not in "\n\t") or cp in (0x2028, 0x2029):
            out.append(f"\\u{{{cp:04x}}}")
        else:
            out.append(ch)
    return "".join(out)


def display_json(defn: Mapping[str, Any] | None) -> list[str]:
    """Indented, key-sorted lines of the pinned fields, with invisible characters escaped."""
    if defn is None:
        return []
    text = json.dumps(pinned_fields(defn), indent=2, sort_keys=True, ensure_ascii=False)
    return [_visible(line) for line in text.splitlines()]


def definition_diff(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    *,
    old_label: str = "pinned",
    new_label: str = "offered",
    context: int = 3,
) -> str:
    """Unified diff text from `old` to `new` (either may be None for added/removed)."""
    lines = difflib.unified_diff(
        display_json(old), display_json(new), fromfile=old_label, tofile=new_label, n=context, lineterm=""
    )
    return "\n".join(lines)
