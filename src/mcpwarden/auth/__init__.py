"""The gateway as an OAuth 2.1 resource server, and the credentials it uses upstream.

Transport-independent: the HTTP front calls `extract_bearer`, `TokenValidator.validate`
and `challenge_for`, and serves `protected_resource_metadata` at `well_known_paths`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcpwarden.lazy import lazy_exports

if TYPE_CHECKING:
    from mcpwarden.auth.config import AuthConfig, UpstreamCredentials
    from mcpwarden.auth.errors import AuthError
    from mcpwarden.auth.metadata import (
        challenge,
        challenge_for,
        extract_bearer,
        metadata_url,
        protected_resource_metadata,
        require_bearer,
        well_known_paths,
    )
    from mcpwarden.auth.resource import canonical_resource
    from mcpwarden.auth.scopes import challenge_scopes, require_scopes
    from mcpwarden.auth.tokens import TokenValidator, VerifiedToken
    from mcpwarden.auth.upstream import (
        UpstreamAuth,
        UpstreamAuthError,
        build_upstream_auth,
        strip_credentials,
    )

# Names are imported on first use (see mcpwarden.lazy): importing one submodule of this
# package must not pay for the others.
__getattr__ = lazy_exports(
    __name__,
    {
        "AuthConfig": "mcpwarden.auth.config",
        "UpstreamCredentials": "mcpwarden.auth.config",
        "AuthError": "mcpwarden.auth.errors",
        "challenge": "mcpwarden.auth.metadata",
        "challenge_for": "mcpwarden.auth.metadata",
        "extract_bearer": "mcpwarden.auth.metadata",
        "metadata_url": "mcpwarden.auth.metadata",
        "protected_resource_metadata": "mcpwarden.auth.metadata",
        "require_bearer": "mcpwarden.auth.metadata",
        "well_known_paths": "mcpwarden.auth.metadata",
        "canonical_resource": "mcpwarden.auth.resource",
        "challenge_scopes": "mcpwarden.auth.scopes",
        "require_scopes": "mcpwarden.auth.scopes",
        "TokenValidator": "mcpwarden.auth.tokens",
        "VerifiedToken": "mcpwarden.auth.tokens",
        "UpstreamAuth": "mcpwarden.auth.upstream",
        "UpstreamAuthError": "mcpwarden.auth.upstream",
        "build_upstream_auth": "mcpwarden.auth.upstream",
        "strip_credentials": "mcpwarden.auth.upstream",
    },
)

__all__ = [
    "AuthConfig",
    "AuthError",
    "TokenValidator",
    "UpstreamAuth",
    "UpstreamAuthError",
    "UpstreamCredentials",
    "VerifiedToken",
    "build_upstream_auth",
    "canonical_resource",
    "challenge",
    "challenge_for",
    "challenge_scopes",
    "extract_bearer",
    "metadata_url",
    "protected_resource_metadata",
    "require_bearer",
    "require_scopes",
    "strip_credentials",
    "well_known_paths",
]
