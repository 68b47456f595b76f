"""The gateway as an OAuth 2.1 resource server, and the credentials it uses upstream.

Transport-independent: the HTTP front calls `extract_bearer`, `TokenValidator.validate`
and `challenge_for`, and serves `protected_resource_metadata` at `well_known_paths`.
"""

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
from mcpwarden.auth.upstream import UpstreamAuth, UpstreamAuthError, build_upstream_auth, strip_credentials

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
