"""`server/discover` and the result shape of the stateless era.

The discover result is built from the handshake the gateway made with the principal's
upstreams (see `stateless_pool`): on the aggregated endpoint that is already the merge of
every reachable upstream's capabilities and labelled instructions, through the
`initialize_result` guards, so a stateless client learns no more than a session-era one.

Every 2026-07-28 result carries `resultType`; list and read results carry the caching hints
`ttlMs` and `cacheScope`. What the gateway returns is filtered per principal (policy,
pinning, redaction), so it is always `private`: a shared cache must not hand one
principal's view to another, whatever the upstream said.
"""

from __future__ import annotations

from typing import Any

from mcpwarden import __version__
from mcpwarden.gateway.era import ALL_PROTOCOL_VERSIONS

JSON = dict[str, Any]

SERVER_INFO_META = "io.modelcontextprotocol/serverInfo"
CACHEABLE = frozenset(
    {
        "server/discover",
        "tools/list",
        "prompts/list",
        "resources/list",
        "resources/templates/list",
        "resources/read",
    }
)
GATEWAY_INFO: JSON = {"name": "mcpwarden", "title": "mcpwarden gateway", "version": __version__}


def discover_result(init_result: JSON) -> JSON:
    """The `server/discover` result from the gateway-side handshake's (guarded) result."""
    caps = init_result.get("capabilities")
    info = init_result.get("serverInfo") if isinstance(init_result.get("serverInfo"), dict) else GATEWAY_INFO
    out: JSON = {
        "supportedVersions": list(ALL_PROTOCOL_VERSIONS),
        "capabilities": dict(caps) if isinstance(caps, dict) else {},
        "serverInfo": info,
        "_meta": {SERVER_INFO_META: info},
    }
    if isinstance(init_result.get("instructions"), str):
        out["instructions"] = init_result["instructions"]
    return shape_result("server/discover", out)


def shape_result(method: str, result: JSON) -> JSON:
    """A result as the 2026-07-28 revision requires it: `resultType`, and caching hints
    (always `cacheScope: private`) on the cacheable methods."""
    out = dict(result)
    out.setdefault("resultType", "complete")
    if method in CACHEABLE:
        ttl = out.get("ttlMs")
        out["ttlMs"] = ttl if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl >= 0 else 0
        out["cacheScope"] = "private"
    return out
