"""Errors raised while processing one client request, each mapped to a JSON-RPC error."""

from __future__ import annotations

from mcpwarden.gateway import jsonrpc


class UpstreamTimeout(Exception):
    """The upstream did not answer within its configured time."""


class ClientError(Exception):
    """The client's request cannot be served as asked (unknown name, wrong state, ...)."""

    def __init__(
        self, message: str, *, code: int = jsonrpc.INVALID_PARAMS, reason: str = "request.invalid"
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


class AuditRefused(Exception):
    """A request's start record could not be written and `audit.on_failure` is `refuse`."""

    reason = "audit.unavailable"
