"""Canonical resource URIs (MCP authorization §Canonical Server URI, RFC 8707).

Audience checks compare canonical forms so that `https://GW.example:443/mcp/` and
`https://gw.example/mcp` are the same resource, while `https://gw.example/mcp/a` and
`https://gw.example/mcp/b` stay different: matching is exact after normalization,
never by prefix.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


@lru_cache(maxsize=4096)
def canonical_resource(value: str) -> str:
    """Lowercase scheme and host, drop the default port, fragment and trailing slash.

    Values that are not absolute http(s) URLs (Entra client ids, `api://` App ID URIs)
    are returned unchanged apart from surrounding whitespace, so they compare exactly.
    Memoized: the hot path canonicalizes the same few endpoint URLs on every request.
    """
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return text
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:
        userinfo = parts.username or ""
        if parts.password:
            userinfo += f":{parts.password}"
        netloc = f"{userinfo}@{netloc}"
    path = parts.path.rstrip("/")
    return urlunsplit((scheme, netloc, path, parts.query, ""))
