"""The aggregated endpoint's view over several upstreams: routing, list and init merging.

One `/mcp` endpoint fronts every configured upstream. Names and URIs carry their owner
(see `naming`), so these functions find the owner of a request, rename what an upstream
lists or returns, and merge the `initialize` results into one. They are pure: no I/O, no
session state beyond the names passed in.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from mcpwarden.gateway import jsonrpc
from mcpwarden.gateway.errors import ClientError
from mcpwarden.gateway.naming import prefix_content_uris, prefix_name, prefix_uri, split_name, split_uri

JSON = dict[str, Any]

# List methods, the key holding the items, the field naming each item, and the capability.
LIST_METHODS: dict[str, tuple[str, str, str]] = {
    "tools/list": ("tools", "name", "tools"),
    "prompts/list": ("prompts", "name", "prompts"),
    "resources/list": ("resources", "uri", "resources"),
    "resources/templates/list": ("resourceTemplates", "uriTemplate", "resources"),
}

# Capabilities whose boolean flags are merged (any upstream having one makes it true).
MERGED_CAPABILITIES = ("tools", "prompts", "resources", "logging", "completions")


def route(method: str, params: JSON, upstreams: Collection[str]) -> tuple[str, JSON]:
    """Find the owner of an aggregated name and give back the upstream's own params."""
    out = dict(params)
    if method in ("tools/call", "prompts/get"):
        split = split_name(str(params.get("name", "")))
        if split is None or split[0] not in upstreams:
            raise ClientError(f"unknown {method.split('/')[0][:-1]} {params.get('name')!r}")
        out["name"] = split[1]
        return split[0], out
    if method in ("resources/read", "resources/subscribe", "resources/unsubscribe"):
        split = split_uri(str(params.get("uri", "")))
        if split is None or split[0] not in upstreams:
            raise ClientError(f"unknown resource {params.get('uri')!r}")
        out["uri"] = split[1]
        return split[0], out
    if method == "completion/complete":
        ref = params.get("ref") if isinstance(params.get("ref"), dict) else {}
        assert isinstance(ref, dict)
        key = "name" if ref.get("type") == "ref/prompt" else "uri"
        value = str(ref.get(key, ""))
        split = split_name(value) if key == "name" else split_uri(value)
        if split is None or split[0] not in upstreams:
            raise ClientError(f"unknown completion reference {value!r}")
        out["ref"] = {**ref, key: split[1]}
        return split[0], out
    if len(upstreams) == 1:
        return next(iter(upstreams)), out
    raise ClientError(
        f"method {method!r} cannot be routed on the aggregated endpoint; use /servers/<name>/mcp",
        code=jsonrpc.METHOD_NOT_FOUND,
        reason="method.not_routable",
    )


def prefix_items(upstream: str, method: str, items: list[JSON]) -> list[JSON]:
    """Copies of one upstream's listed items, named as the aggregated endpoint shows them."""
    _, name_field, _ = LIST_METHODS[method]
    out: list[JSON] = []
    for item in items:
        item = dict(item)
        value = item.get(name_field)
        if isinstance(value, str):
            item[name_field] = (
                prefix_name(upstream, value) if name_field == "name" else prefix_uri(upstream, value)
            )
        out.append(item)
    return out


def prefix_result(upstream: str, method: str, result: JSON) -> JSON:
    """Rename, in place, the URIs a result refers to so the client can use them here."""
    if method == "tools/call":
        prefix_content_uris(upstream, result.get("content"))
    elif method == "prompts/get":
        for m in result.get("messages") or []:
            if isinstance(m, dict):
                prefix_content_uris(upstream, [m.get("content")])
    elif method == "resources/read":
        for c in result.get("contents") or []:
            if isinstance(c, dict) and isinstance(c.get("uri"), str):
                c["uri"] = prefix_uri(upstream, c["uri"])
    return result


def merged_init(version: str, replies: Mapping[str, JSON], gateway_version: str) -> JSON:
    """One `initialize` result for the aggregated endpoint from every upstream's reply.

    Capabilities are the union of the upstreams' flags; each upstream's instructions are
    kept, labelled with its name, so the client can tell whose they are.
    """
    caps: JSON = {}
    instructions: list[str] = []
    for name, reply in replies.items():
        result = reply.get("result") or {}
        up_caps = result.get("capabilities") or {}
        for key in MERGED_CAPABILITIES:
            if key in up_caps:
                merged = caps.setdefault(key, {})
                if isinstance(up_caps[key], dict):
                    for flag, value in up_caps[key].items():
                        if value is True:
                            merged[flag] = True
        if result.get("instructions"):
            instructions.append(f"[{name}] {result['instructions']}")
    out: JSON = {
        "protocolVersion": version,
        "capabilities": caps,
        "serverInfo": {"name": "mcpwarden", "title": "mcpwarden gateway", "version": gateway_version},
    }
    if instructions:
        out["instructions"] = "\n\n".join(instructions)
    return out
