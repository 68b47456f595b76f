"""RFC 9728 Protected Resource Metadata, `WWW-Authenticate` challenges, and bearer extraction.

These are pure functions of strings and mappings so the HTTP front (whatever framework
it uses) only has to route the well-known paths and copy headers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mcpwarden.auth.errors import AuthError, invalid_request
from mcpwarden.auth.resource import canonical_resource

PRM_WELL_KNOWN = "/.well-known/oauth-protected-resource"

# RFC 6750 §2.1 b64token.
_B64TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/")


def protected_resource_metadata(
    resource: str,
    authorization_servers: Sequence[str],
    *,
    scopes_supported: Sequence[str] | None = None,
    resource_name: str | None = None,
    resource_documentation: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The PRM document for one resource (MCP PRM-01/PRM-04, TOK-03).

    `scopes_supported` should list only the baseline scopes: clients request all of
    them when no challenge says otherwise, and elevation happens by challenge.
    """
    if not authorization_servers:
        raise ValueError("protected resource metadata needs at least one authorization server")
    document: dict[str, Any] = dict(extra or {})
    document.update(
        {
            "resource": canonical_resource(resource),
            "authorization_servers": list(authorization_servers),
            "bearer_methods_supported": ["header"],
        }
    )
    if scopes_supported:
        document["scopes_supported"] = list(scopes_supported)
    if resource_name:
        document["resource_name"] = resource_name
    if resource_documentation:
        document["resource_documentation"] = resource_documentation
    return document


def well_known_paths(resource: str) -> list[str]:
    """Paths under which the resource's metadata is served: path-inserted first, then root.

    A resource without a path has only the root one.
    """
    path = urlsplit(canonical_resource(resource)).path
    paths = [PRM_WELL_KNOWN + path] if path else []
    paths.append(PRM_WELL_KNOWN)
    return paths


def metadata_url(resource: str) -> str:
    """The absolute path-inserted metadata URL, for `resource_metadata=` in challenges."""
    parts = urlsplit(canonical_resource(resource))
    return urlunsplit((parts.scheme, parts.netloc, PRM_WELL_KNOWN + parts.path, "", ""))


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _clean_description(text: str) -> str:
    # RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
    return "".join(ch if 0x20 <= ord(ch) <= 0x7E and ch not in '"\\' else " " for ch in text)


def challenge(
    resource_metadata: str,
    *,
    error: str | None = None,
    scope: Iterable[str] | None = None,
    description: str | None = None,
) -> str:
    """A `WWW-Authenticate` value: `Bearer resource_metadata="…", scope="…"[, error="…"]`.

    Pass no `error` when the request carried no credentials (RFC 6750 §3.1).
    """
    params = [f"resource_metadata={_quote(resource_metadata)}"]
    scopes = list(scope or [])
    if scopes:
        params.append(f"scope={_quote(' '.join(scopes))}")
    if error:
        params.append(f"error={_quote(error)}")
        if description:
            params.append(f"error_description={_quote(_clean_description(description))}")
    return "Bearer " + ", ".join(params)


def challenge_for(error: AuthError, resource_metadata: str, *, default_scope: Iterable[str] = ()) -> str:
    """The challenge matching an AuthError: 401 with the baseline scopes, 403 with the needed ones."""
    scope = error.scope if error.scope else list(default_scope)
    return challenge(resource_metadata, error=error.error, scope=scope, description=error.description)


def _header_values(headers: Mapping[str, str] | Iterable[tuple[str, str]], name: str) -> list[str]:
    getlist = getattr(headers, "getlist", None)
    if callable(getlist):
        return [str(v) for v in getlist(name)]
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [value for key, value in items if key.lower() == name]


def extract_bearer(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    query: Mapping[str, Any] | Iterable[tuple[str, str]] = (),
) -> str | None:
    """The bearer token from the Authorization header, None when no credentials were sent.

    A token in the query string is refused outright (MCP TOK-03: URLs leak into logs),
    and so are ambiguous headers: several Authorization headers, or a Bearer value that
    is empty, has extra parts or characters outside RFC 6750's b64token. A header with
    another scheme counts as no bearer credentials: the 401 then tells the client which
    scheme to use.
    """
    query_keys = query.keys() if isinstance(query, Mapping) else [k for k, _ in query]
    if any(key == "access_token" for key in query_keys):
        raise invalid_request("access tokens are accepted only in the Authorization header", "token.in_query")
    values = _header_values(headers, "authorization")
    if not values:
        return None
    if len(values) > 1:
        raise invalid_request("more than one Authorization header", "token.malformed_header")
    scheme, _, rest = values[0].strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = rest.strip()
    if not token or " " in token or "\t" in token:
        raise invalid_request("malformed Bearer credentials", "token.malformed_header")
    body = token.rstrip("=")
    if not body or not set(body) <= _B64TOKEN_CHARS:
        raise invalid_request("malformed Bearer credentials", "token.malformed_header")
    return token


def require_bearer(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    query: Mapping[str, Any] | Iterable[tuple[str, str]] = (),
) -> str:
    """Like `extract_bearer`, but a missing token is a 401 without an error code."""
    token = extract_bearer(headers, query)
    if token is None:
        raise AuthError(401, None, "authentication required", reason="auth.missing")
    return token
