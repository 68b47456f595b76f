"""Authorization server metadata discovery: RFC 8414 and OpenID Connect Discovery.

The well-known URLs are tried in the order MCP authorization §Authorization Server
Metadata Discovery prescribes, and the document's `issuer` must equal the configured
issuer exactly (RFC 8414 §3.3): otherwise a compromised or misconfigured host could
point us at someone else's keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import httpx

DiscoveryMode = Literal["auto", "oauth", "oidc"]

OAUTH_WELL_KNOWN = "/.well-known/oauth-authorization-server"
OIDC_WELL_KNOWN = "/.well-known/openid-configuration"


class DiscoveryError(Exception):
    """No usable metadata document was found for the issuer."""


def metadata_urls(issuer: str, mode: DiscoveryMode = "auto") -> list[str]:
    """Candidate metadata URLs for `issuer`, most preferred first."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")

    def at(p: str) -> str:
        return urlunsplit((parts.scheme, parts.netloc, p, "", ""))

    urls: list[str] = []
    if mode in ("auto", "oauth"):
        urls.append(at(OAUTH_WELL_KNOWN + path))
    if mode in ("auto", "oidc"):
        urls.append(at(OIDC_WELL_KNOWN + path))
        if path:
            urls.append(at(path + OIDC_WELL_KNOWN))
    return urls


async def discover(
    client: httpx.AsyncClient,
    issuer: str,
    *,
    mode: DiscoveryMode = "auto",
    metadata_url: str | None = None,
    accepted_issuers: frozenset[str] | None = None,
) -> dict[str, Any]:
    """Fetch and check the issuer's metadata; raise DiscoveryError when none fits."""
    import httpx  # here, not at import: the gateway loads this module whether or not it discovers

    accepted = accepted_issuers or frozenset([issuer])
    candidates = [metadata_url] if metadata_url else metadata_urls(issuer, mode)
    problems: list[str] = []
    for url in candidates:
        try:
            response = await client.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            problems.append(f"{url}: {type(exc).__name__}")
            continue
        if response.status_code != 200:
            problems.append(f"{url}: HTTP {response.status_code}")
            continue
        try:
            document = response.json()
        except ValueError:
            problems.append(f"{url}: not JSON")
            continue
        if not isinstance(document, dict):
            problems.append(f"{url}: not a JSON object")
            continue
        if document.get("issuer") not in accepted:
            problems.append(f"{url}: issuer {document.get('issuer')!r} does not match")
            continue
        return document
    raise DiscoveryError(f"no metadata for issuer {issuer!r}: " + "; ".join(problems))
