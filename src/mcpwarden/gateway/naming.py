"""Collision-free names on the aggregated endpoint.

Tools and prompts of upstream `U` named `N` appear as `U__N`; resource and template URIs
`S://rest` appear as `U+S://rest` (a valid URI scheme, since upstream names are lowercase
letters, digits and `-`). Upstream names cannot contain `__` or `+`, so splitting at the
first separator always recovers the owner and the original name, whatever the original
contains.
"""

from __future__ import annotations

from typing import Any

NAME_SEP = "__"
URI_SEP = "+"


def prefix_name(upstream: str, name: str) -> str:
    return f"{upstream}{NAME_SEP}{name}"


def split_name(qualified: str) -> tuple[str, str] | None:
    upstream, sep, name = qualified.partition(NAME_SEP)
    if not sep or not upstream or not name:
        return None
    return upstream, name


def prefix_uri(upstream: str, uri: str) -> str:
    return f"{upstream}{URI_SEP}{uri}"


def split_uri(qualified: str) -> tuple[str, str] | None:
    upstream, sep, uri = qualified.partition(URI_SEP)
    if not sep or not upstream or not uri or "/" in upstream or ":" in upstream:
        return None
    return upstream, uri


def prefix_content_uris(upstream: str, items: Any) -> None:
    """Rewrite, in place, URIs of resource links and embedded resources in a content list."""
    if not isinstance(items, list):
        return
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "resource_link" and isinstance(item.get("uri"), str):
            item["uri"] = prefix_uri(upstream, item["uri"])
        elif item.get("type") == "resource" and isinstance(item.get("resource"), dict):
            res = item["resource"]
            if isinstance(res.get("uri"), str):
                res["uri"] = prefix_uri(upstream, res["uri"])
