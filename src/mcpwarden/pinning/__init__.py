"""Pinning: a canonical, hashable form of MCP tool, prompt and resource-template definitions.

A pin is only as good as its canonical form: two servers that send the same definition
with different key order or whitespace must hash the same, while any change a model could
read (one invisible character, a homoglyph) must change the hash. See docs/pinning.md.
"""

from mcpwarden.pinning.canonical import (
    EXCLUDED_FIELDS,
    KINDS,
    Kind,
    body_hash,
    canonical_json,
    definition_hash,
    pinned_fields,
)
from mcpwarden.pinning.diff import definition_diff, display_json

__all__ = [
    "EXCLUDED_FIELDS",
    "KINDS",
    "Kind",
    "body_hash",
    "canonical_json",
    "definition_diff",
    "definition_hash",
    "display_json",
    "pinned_fields",
]
