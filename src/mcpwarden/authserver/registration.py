"""Client registration: Client ID Metadata Documents (preferred) and RFC 7591 DCR.

A client id that is an https URL is a Client ID Metadata Document: the gateway fetches
it through the SSRF-safe fetcher, checks that it names itself (`client_id` equals the
URL) and keeps it for `cache_ttl_s`. Anything else must have been registered through
`/register` (DCR, when enabled). Both end up as `client` records, so the CLI lists them
and a revoked client stays revoked: a revoked CIMD URL is not fetched again.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from mcpwarden.authserver.clients import Client, ClientMetadataError, client_from_metadata
from mcpwarden.authserver.config import CimdConfig
from mcpwarden.authserver.fetch import FetchLimits, FetchRefused, fetch_json_document
from mcpwarden.authserver.store import OAuthStore, secret_key
from mcpwarden.egress import EgressRule


class RegistrationError(Exception):
    """A client that cannot be registered or resolved: `error` is the RFC 7591/6749 code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def is_cimd_client_id(client_id: str) -> bool:
    parts = urlsplit(client_id)
    return parts.scheme in ("https", "http") and bool(parts.netloc)


class ClientRegistry:
    def __init__(self, store: OAuthStore, cimd: CimdConfig, client: httpx.AsyncClient) -> None:
        self.store = store
        self.cimd = cimd
        self._http = client
        self._limits = FetchLimits(
            timeout_s=cimd.timeout_s,
            max_bytes=cimd.max_bytes,
            max_redirects=cimd.max_redirects,
            require_https=cimd.require_https,
            allow=tuple(EgressRule.parse(e) for e in cimd.allow),
        )

    def get(self, client_id: str) -> Client | None:
        """A known, unrevoked client (after `resolve` for CIMD ids)."""
        record = self.store.get("client", client_id)
        if record is None or record.revoked_at is not None:
            return None
        return Client.from_data(record.data)

    async def resolve(self, client_id: str) -> Client:
        """The client for `client_id`, fetching its metadata document when it is a URL."""
        record = self.store.get("client", client_id)
        if record is not None and record.revoked_at is not None:
            raise RegistrationError("invalid_client", "this client has been revoked")
        if not is_cimd_client_id(client_id):
            if record is None:
                raise RegistrationError("invalid_client", "unknown client_id")
            return Client.from_data(record.data)
        if not self.cimd.enabled:
            raise RegistrationError("invalid_client", "client metadata documents are not accepted here")
        if record is not None and record.active(self.store.clock()):
            return Client.from_data(record.data)
        try:
            body = await fetch_json_document(client_id, self._limits, self._http)
            document = orjson.loads(body)
        except FetchRefused as exc:
            raise RegistrationError("invalid_client", f"client metadata document refused: {exc}") from None
        except orjson.JSONDecodeError:
            raise RegistrationError("invalid_client", "client metadata document is not JSON") from None
        if not isinstance(document, dict) or document.get("client_id") != client_id:
            raise RegistrationError(
                "invalid_client", "client metadata document must name its own URL as client_id"
            )
        if "client_secret" in document:
            raise RegistrationError("invalid_client_metadata", "a metadata document must not carry a secret")
        try:
            client = client_from_metadata(document, client_id=client_id, source="cimd")
        except ClientMetadataError as exc:
            raise RegistrationError("invalid_client_metadata", str(exc)) from None
        self.store.put("client", client_id, client.to_data(), client_id=client_id, ttl=self.cimd.cache_ttl_s)
        return client

    def register(self, metadata: Any) -> dict[str, Any]:
        """RFC 7591: register a client; the response (with the secret, shown once)."""
        client_id = "mcpw-" + secrets.token_urlsafe(18)
        try:
            client = client_from_metadata(metadata, client_id=client_id, source="dcr")
        except ClientMetadataError as exc:
            raise RegistrationError(
                "invalid_redirect_uri" if "redirect_uri" in str(exc) else "invalid_client_metadata", str(exc)
            ) from None
        secret = None
        if client.token_endpoint_auth_method != "none":
            secret = secrets.token_urlsafe(32)
            client.client_secret_hash = secret_key(secret)
        self.store.put("client", client_id, client.to_data(), client_id=client_id)
        response = {k: v for k, v in client.to_data().items() if k not in ("client_secret_hash", "source")}
        response["client_id_issued_at"] = int(self.store.clock())
        response["response_types"] = ["code"]
        if secret is not None:
            response["client_secret"] = secret
            response["client_secret_expires_at"] = 0
        return {k: v for k, v in response.items() if v not in (None, "")}
