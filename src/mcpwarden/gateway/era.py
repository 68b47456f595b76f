"""Which protocol era a request belongs to, decided from its `MCP-Protocol-Version` header.

Two eras share the same endpoints. The dated revisions up to 2025-11-25 open a session with
`initialize` and carry `Mcp-Session-Id`; 2026-07-28 has neither and puts version and client
capabilities into every request's `_meta`. The header decides, as the 2026-07-28 revision
says: absent or one of the handshake revisions takes the session path, a stateless revision
the stateless path, anything else is refused with `UnsupportedProtocolVersionError` (-32022,
HTTP 400) listing every version the gateway serves. Deciding on the header alone, before any
session lookup, means neither path ever sees a request meant for the other.
"""

from __future__ import annotations

from typing import Any, Literal

from mcpwarden.config import SUPPORTED_PROTOCOL_VERSIONS
from mcpwarden.gateway.http_errors import HttpRejection

Era = Literal["handshake", "stateless"]

VERSION_HEADER = "mcp-protocol-version"
# Revisions without initialize or sessions, newest last.
STATELESS_PROTOCOL_VERSIONS: tuple[str, ...] = ("2026-07-28",)
LATEST_STATELESS_VERSION = STATELESS_PROTOCOL_VERSIONS[-1]
# Everything the gateway serves, oldest first: what `server/discover` and -32022 list.
ALL_PROTOCOL_VERSIONS: tuple[str, ...] = (*SUPPORTED_PROTOCOL_VERSIONS, *STATELESS_PROTOCOL_VERSIONS)

# Error codes of the 2026-07-28 revision.
HEADER_MISMATCH = -32020
MISSING_CLIENT_CAPABILITY = -32021
UNSUPPORTED_PROTOCOL_VERSION = -32022


def era_of(version: str | None, *, request_id: Any = None) -> Era:
    """The era of a request whose `MCP-Protocol-Version` header is `version`.

    Raises the revision's unsupported-version rejection (echoing `request_id`) for a
    version neither era knows.
    """
    if version is None or version in SUPPORTED_PROTOCOL_VERSIONS:
        return "handshake"
    if version in STATELESS_PROTOCOL_VERSIONS:
        return "stateless"
    raise unsupported_version(version, request_id)


def unsupported_version(version: str, request_id: Any = None) -> HttpRejection:
    """HTTP 400 with `UnsupportedProtocolVersionError`: the supported list and the request's echo."""
    return HttpRejection(
        400,
        "transport.protocol_version",
        f"unsupported MCP-Protocol-Version {version!r}; supported: {', '.join(ALL_PROTOCOL_VERSIONS)}",
        id_=request_id,
        code=UNSUPPORTED_PROTOCOL_VERSION,
        data={"supported": list(ALL_PROTOCOL_VERSIONS), "requested": version},
    )
