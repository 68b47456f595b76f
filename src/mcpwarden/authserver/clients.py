"""OAuth clients: the authlib client model and the redirect-URI rules every client obeys.

Redirect URIs match exactly, string for string (OAuth 2.1 §2.3.1): no prefix, no
normalisation, no wildcard. The one exception is RFC 8252 §7.3: a *native* client that
registered a loopback URI (`http://127.0.0.1/cb`, `http://[::1]/cb`, `http://localhost/cb`)
may use any port, because the operating system hands it a free one at run time. A web
client gets no such latitude, so a changed port is a changed redirect URI.

Display fields are what the consent page shows; a logo or client URI is kept only when
it is https, and neither is ever used as a redirect target.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "[::1]", "localhost"})
AUTH_METHODS = frozenset({"none", "client_secret_basic", "client_secret_post"})


class ClientMetadataError(ValueError):
    """Client metadata (DCR body or CIMD document) that cannot be accepted; says which field."""


def _loopback(uri: str) -> bool:
    parts = urlsplit(uri)
    host = (
        parts.netloc.rsplit(":", 1)[0]
        if not parts.netloc.startswith("[")
        else parts.netloc.split("]")[0] + "]"
    )
    return parts.scheme == "http" and host.lower() in LOOPBACK_HOSTS


def redirect_uri_matches(registered: str, requested: str, *, native: bool) -> bool:
    """Exact match, or for native clients the same loopback URI on another port."""
    if hmac.compare_digest(registered.encode(), requested.encode()):
        return True
    if not native or not (_loopback(registered) and _loopback(requested)):
        return False
    a, b = urlsplit(registered), urlsplit(requested)
    try:
        _ = b.port  # a malformed port refuses the match
    except ValueError:
        return False
    return (a.hostname, a.path, a.query, a.fragment) == (b.hostname, b.path, b.query, b.fragment) and not (
        b.username or b.password
    )


def check_redirect_uri(uri: str, application_type: str) -> None:
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise ClientMetadataError(f"redirect_uri {uri!r} must not have a fragment")
    if parts.username or parts.password:
        raise ClientMetadataError(f"redirect_uri {uri!r} must not carry credentials")
    if parts.scheme == "https" and parts.hostname:
        return
    if _loopback(uri):
        return
    if application_type == "native" and parts.scheme and "." in parts.scheme and not parts.netloc:
        return  # private-use URI scheme (RFC 8252 §7.1), reverse-domain form
    raise ClientMetadataError(
        f"redirect_uri {uri!r} must be https, a loopback http URI"
        + (", or a reverse-domain private-use scheme" if application_type == "native" else "")
    )


def _https_or_none(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    parts = urlsplit(value)
    return (
        value
        if parts.scheme == "https" and parts.hostname and not (parts.username or parts.password)
        else None
    )


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    """A registered (DCR) or self-described (CIMD) client."""

    client_id: str
    redirect_uris: list[str]
    client_name: str = ""
    application_type: str = "web"
    token_endpoint_auth_method: str = "none"
    client_secret_hash: str | None = None
    logo_uri: str | None = None
    client_uri: str | None = None
    scope: str = ""
    source: str = "dcr"
    grant_types: list[str] = field(default_factory=lambda: ["authorization_code", "refresh_token"])

    # -- authlib ClientMixin -----------------------------------------------------------

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Only a single registered URI may be implied; otherwise redirect_uri is required.
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str) -> str:
        if not scope:
            return ""
        if not self.scope:
            return scope
        allowed = set(self.scope.split())
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        native = self.application_type == "native"
        return any(redirect_uri_matches(r, redirect_uri, native=native) for r in self.redirect_uris)

    def check_client_secret(self, client_secret: str) -> bool:
        from mcpwarden.authserver.store import secret_key

        if self.client_secret_hash is None:
            return False
        return hmac.compare_digest(secret_key(client_secret), self.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types

    # -- display and storage -----------------------------------------------------------

    def display(self) -> dict[str, Any]:
        """What the consent page may show: name, https-only logo and URI, redirect host."""
        return {
            "client_id": self.client_id,
            "name": self.client_name or self.client_id,
            "logo_uri": _https_or_none(self.logo_uri),
            "client_uri": _https_or_none(self.client_uri),
        }

    def to_data(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "redirect_uris": self.redirect_uris,
            "client_name": self.client_name,
            "application_type": self.application_type,
            "token_endpoint_auth_method": self.token_endpoint_auth_method,
            "client_secret_hash": self.client_secret_hash,
            "logo_uri": self.logo_uri,
            "client_uri": self.client_uri,
            "scope": self.scope,
            "source": self.source,
            "grant_types": self.grant_types,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Client:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def client_from_metadata(metadata: Any, *, client_id: str, source: str) -> Client:
    """A client from RFC 7591 metadata (a DCR body or a CIMD document), validated field by field."""
    if not isinstance(metadata, dict):
        raise ClientMetadataError("client metadata must be a JSON object")
    application_type = metadata.get("application_type", "web")
    if application_type not in ("web", "native"):
        raise ClientMetadataError("application_type must be 'web' or 'native'")
    uris = metadata.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) and u for u in uris):
        raise ClientMetadataError("redirect_uris must be a non-empty list of strings")
    for uri in uris:
        check_redirect_uri(uri, application_type)
    method = metadata.get("token_endpoint_auth_method", "none" if source == "cimd" else "client_secret_basic")
    if method not in AUTH_METHODS or (source == "cimd" and method != "none"):
        raise ClientMetadataError(f"token_endpoint_auth_method {method!r} is not supported here")
    grants = metadata.get("grant_types", ["authorization_code", "refresh_token"])
    if not isinstance(grants, list) or not set(grants) <= {"authorization_code", "refresh_token"}:
        raise ClientMetadataError("grant_types may only be authorization_code and refresh_token")
    responses = metadata.get("response_types", ["code"])
    if responses != ["code"]:
        raise ClientMetadataError("response_types must be ['code']")
    name = metadata.get("client_name", "")
    scope = metadata.get("scope", "")
    if not isinstance(name, str) or len(name) > 200 or not isinstance(scope, str):
        raise ClientMetadataError("client_name and scope must be strings (name up to 200 characters)")
    return Client(
        client_id=client_id,
        redirect_uris=list(uris),
        client_name=name,
        application_type=application_type,
        token_endpoint_auth_method=method,
        logo_uri=metadata.get("logo_uri") if isinstance(metadata.get("logo_uri"), str) else None,
        client_uri=metadata.get("client_uri") if isinstance(metadata.get("client_uri"), str) else None,
        scope=scope,
        source=source,
        grant_types=list(grants),
    )
