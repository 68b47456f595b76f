"""authlib's authorization server, wired to the record store: codes, refresh, revocation.

The grant logic (redirect-URI and client checks, PKCE, scope, error responses) is
authlib's; this module only supplies storage and the few policies authlib leaves open:

* PKCE is required and only `S256` is accepted (`plain` would let a code thief who saw
  the challenge redeem the code).
* Codes are single use and consumed atomically when looked up; presenting a used code
  again revokes every refresh token issued from it (OAuth 2.1 §4.1.3).
* Refresh tokens rotate on every use; presenting an already rotated one is reuse and
  revokes the whole family, including the legitimate holder's newest token.
* Access tokens are RFC 9068 JWTs audience-bound to one gateway resource (RFC 8707
  `resource`), signed with this server's key and validated by the resource server.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Payload, OAuth2Request, grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter

from mcpwarden.authserver.clients import Client
from mcpwarden.authserver.config import AuthServerConfig
from mcpwarden.authserver.keys import SigningKey, access_token_claims
from mcpwarden.authserver.store import OAuthStore, Record, secret_key

CLIENT_AUTH = ["none", "client_secret_basic", "client_secret_post"]


class FormPayload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, data: dict[str, str]) -> None:
        self._data = data

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return {k: [v] for k, v in self._data.items()}


class FormRequest(OAuth2Request):  # type: ignore[misc]
    """An authlib request from already-read parameters (query for /authorize, form for /token)."""

    def __init__(self, method: str, uri: str, data: dict[str, str], headers: dict[str, str]) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self._params = data
        self.payload = FormPayload(data)

    @property
    def args(self) -> dict[str, str]:
        return self._params

    @property
    def form(self) -> dict[str, str]:
        return self._params


@dataclass
class Reply:
    """What authlib answers; `location` is mutable because the RFC 9207 hook rewrites it."""

    status: int
    body: Any
    headers: list[tuple[str, str]]

    @property
    def location(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "location"), None)

    @location.setter
    def location(self, value: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != "location"] + [("Location", value)]


@dataclass(frozen=True)
class GrantUser:
    """The user a grant acts for, and the resource its tokens are bound to."""

    subject: str
    resource: str

    def get_user_id(self) -> str:
        return self.subject


class StoredCode:
    """An authorization code record in the shape authlib's grant expects."""

    def __init__(self, record: Record) -> None:
        self.record = record
        self.code_challenge = record.data.get("code_challenge")
        self.code_challenge_method = record.data.get("code_challenge_method")

    def get_redirect_uri(self) -> str:
        return str(self.record.data["redirect_uri"])

    def get_scope(self) -> str:
        return str(self.record.data.get("scope", ""))


class StoredRefresh:
    def __init__(self, record: Record) -> None:
        self.record = record

    def check_client(self, client: Client) -> bool:
        return self.record.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return str(self.record.data.get("scope", ""))

    def is_expired(self) -> bool:
        return False  # expiry is enforced when the record is consumed

    def is_revoked(self) -> bool:
        return False


class InvalidTargetError(OAuth2Error):  # type: ignore[misc]
    """RFC 8707 §2: the requested resource is not one this server issues tokens for."""

    error = "invalid_target"


class _S256Only(CodeChallenge):  # type: ignore[misc]
    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        # authlib lets a request without any challenge through (and an absent method means
        # `plain`); OAuth 2.1 and MCP require PKCE with S256 from every client.
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256 (plain is refused)")
        super().validate_code_challenge(grant, redirect_uri)


class Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, config: AuthServerConfig, store: OAuthStore, key: SigningKey, clients: Any) -> None:
        super().__init__(scopes_supported=config.scopes_supported)
        self.config = config
        self.store = store
        self.key = key
        self.clients = clients
        self.resources: tuple[str, ...] = ()
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.register_token_generator("default", self._generate)
        self.register_grant(_CodeGrant, [_S256Only(required=True)])
        self.register_grant(_RefreshGrant)
        self.register_endpoint(_Revocation)
        self.register_extension(_Issuer(config.issuer))

    # -- framework glue ----------------------------------------------------------------

    def query_client(self, client_id: str) -> Client | None:
        found: Client | None = self.clients.get(client_id)
        return found

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> Reply:
        return Reply(status, body, list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def audit(self, event: str, **details: Any) -> None:
        """Queued for the HTTP layer to write to the audit trail (never with a token)."""
        self.events.append((event, details))

    # -- tokens --------------------------------------------------------------------------

    def resource_for(self, requested: str | None) -> str:
        """The resource a token is bound to: one of the gateway's, the aggregated one by default."""
        if not requested:
            return self.resources[0]
        if requested.rstrip("/") not in {r.rstrip("/") for r in self.resources}:
            raise InvalidTargetError(f"resource {requested!r} is not served by this gateway")
        return requested

    def _generate(
        self,
        grant_type: str,
        client: Client,
        user: GrantUser | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        assert user is not None
        ttl = self.config.access_token_ttl
        claims = access_token_claims(
            issuer=self.config.issuer,
            subject=user.subject,
            client_id=client.get_client_id(),
            audience=user.resource,
            scope=scope or "",
            ttl=ttl,
            jti=secrets.token_urlsafe(16),
        )
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": self.key.sign(claims),
            "expires_in": ttl,
        }
        if scope:
            token["scope"] = scope
        if include_refresh_token:
            token["refresh_token"] = secrets.token_urlsafe(32)
        return token

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        refresh = token.get("refresh_token")
        if not refresh:
            return
        user: GrantUser = request.user
        if request.refresh_token is not None:
            family = request.refresh_token.record.grp
        else:
            family = request.authorization_code.record.key
        self.store.put(
            "refresh",
            secret_key(refresh),
            {"scope": token.get("scope", ""), "resource": user.resource},
            user_id=user.subject,
            client_id=request.client.get_client_id(),
            grp=family,
            ttl=self.config.refresh_token_ttl,
        )


class _Issuer(IssuerParameter):  # type: ignore[misc]
    def __init__(self, issuer: str) -> None:
        self._issuer = issuer

    def get_issuer(self) -> str:
        return self._issuer


class _CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH
    server: Server

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        self.server.store.put(
            "code",
            secret_key(code),
            {
                "redirect_uri": data.get("redirect_uri") or request.client.get_default_redirect_uri(),
                "scope": request.scope or "",
                "code_challenge": data.get("code_challenge"),
                "code_challenge_method": data.get("code_challenge_method", "plain"),
                "resource": self.server.resource_for(data.get("resource")),
            },
            user_id=request.user.subject,
            client_id=request.client.get_client_id(),
            ttl=self.server.config.code_ttl,
        )

    def query_authorization_code(self, code: str, client: Client) -> StoredCode | None:
        key = secret_key(code)
        store = self.server.store
        existing = store.get("code", key)
        if existing is None or existing.client_id != client.get_client_id():
            return None
        record = store.consume("code", key)
        if record is None:
            if existing.revoked_at is not None:
                # A code presented twice: someone else may hold it. Kill what it produced.
                revoked = store.revoke_where("refresh", grp=key)
                self.server.audit(
                    "oauth.code_reuse",
                    client_id=client.get_client_id(),
                    user=existing.user_id,
                    revoked=revoked,
                )
            return None
        requested = self.request.payload.data.get("resource")
        if requested and requested.rstrip("/") != str(record.data["resource"]).rstrip("/"):
            raise InvalidTargetError("resource differs from the one authorized")
        return StoredCode(record)

    def delete_authorization_code(self, authorization_code: StoredCode) -> None:
        return None  # consumed when it was looked up

    def authenticate_user(self, authorization_code: StoredCode) -> GrantUser:
        record = authorization_code.record
        return GrantUser(str(record.user_id), str(record.data["resource"]))


class _RefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: Server

    def authenticate_refresh_token(self, refresh_token: str) -> StoredRefresh | None:
        key = secret_key(refresh_token)
        store = self.server.store
        existing = store.get("refresh", key)
        if existing is None:
            return None
        record = store.consume("refresh", key)
        if record is None:
            if existing.revoked_at is not None and existing.grp:
                revoked = store.revoke_where("refresh", grp=existing.grp)
                self.server.audit(
                    "oauth.refresh_reuse",
                    client_id=existing.client_id,
                    user=existing.user_id,
                    revoked=revoked,
                )
            return None
        return StoredRefresh(record)

    def authenticate_user(self, refresh_token: StoredRefresh) -> GrantUser:
        record = refresh_token.record
        requested = self.request.payload.data.get("resource")
        if requested and requested.rstrip("/") != str(record.data["resource"]).rstrip("/"):
            raise InvalidTargetError("resource differs from the one authorized")
        return GrantUser(str(record.user_id), str(record.data["resource"]))

    def revoke_old_credential(self, refresh_token: StoredRefresh) -> None:
        return None  # consumed when it was authenticated


class _Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = CLIENT_AUTH
    server: Server

    def query_token(self, token_string: str, token_type_hint: str | None) -> StoredRefresh | None:
        if token_type_hint == "access_token":
            return None  # JWT access tokens are short-lived and not stored
        record = self.server.store.get("refresh", secret_key(token_string))
        return StoredRefresh(record) if record is not None else None

    def revoke_token(self, token: StoredRefresh, request: OAuth2Request) -> None:
        record = token.record
        if record.grp:
            self.server.store.revoke_where("refresh", grp=record.grp)
        self.server.store.revoke("refresh", record.key)
        self.server.audit("oauth.token_revoked", client_id=record.client_id, user=record.user_id)


def required_param(data: dict[str, str], name: str) -> str:
    value = data.get(name)
    if not value:
        raise InvalidRequestError(f"missing '{name}'")
    return value


__all__ = ["FormRequest", "GrantUser", "InvalidGrantError", "Reply", "Server", "required_param"]
