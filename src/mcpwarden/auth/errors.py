"""The one exception the auth layer raises, shaped like an RFC 6750 error response.

Carrying the HTTP status, the OAuth error code and the scopes a 403 needs lets the HTTP
front build the `WWW-Authenticate` challenge and the audit event from the exception
alone, without knowing which check failed.
"""

from __future__ import annotations


class AuthError(Exception):
    """A request cannot be authenticated or authorized.

    `error` is the RFC 6750 code (`invalid_request`, `invalid_token`,
    `insufficient_scope`) or None when no credentials were sent at all: RFC 6750 §3.1
    says the challenge then carries no error code. `scope` lists the scopes a 403 asks
    for. `reason` is a stable machine-readable code for the audit trail
    (e.g. `token.expired`), finer than the OAuth code the client sees.
    """

    def __init__(
        self,
        status: int,
        error: str | None,
        description: str,
        scope: list[str] | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.scope = list(scope) if scope else None
        self.reason = reason or (f"auth.{error}" if error else "auth.missing")

    def __repr__(self) -> str:
        return f"AuthError({self.status}, {self.error!r}, {self.description!r}, reason={self.reason!r})"


def invalid_token(description: str, reason: str) -> AuthError:
    """401 `invalid_token`: expired, forged, or not meant for us (RFC 6750 §3.1)."""
    return AuthError(401, "invalid_token", description, reason=reason)


def invalid_request(description: str, reason: str) -> AuthError:
    """400 `invalid_request`: the credentials were presented in a way we refuse."""
    return AuthError(400, "invalid_request", description, reason=reason)


def missing_credentials() -> AuthError:
    """401 without an error code: the client sent nothing, so it has nothing to fix yet."""
    return AuthError(401, None, "authentication required", reason="auth.missing")


def unavailable(description: str) -> AuthError:
    """503: the identity provider cannot be reached, which is not the client's fault."""
    return AuthError(503, "temporarily_unavailable", description, reason="auth.idp_unavailable")
