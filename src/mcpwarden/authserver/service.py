"""One authorization server per gateway process: its parts, built from configuration.

`AuthorizationService` owns the record store, the client registry, authlib's server, the
enterprise IdP login and the third-party token source; the HTTP modules (`endpoints`,
`browser_flow`) only translate requests. `third_parties_for(resource)` decides which
third parties a grant for a gateway resource needs: those named by the `user_oauth`
credentials of the upstreams that resource reaches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from mcpwarden.authserver.config import AuthServerConfig
from mcpwarden.authserver.grants import Server
from mcpwarden.authserver.keys import SigningKey
from mcpwarden.authserver.oidc_login import OidcLogin
from mcpwarden.authserver.registration import ClientRegistry
from mcpwarden.authserver.store import OAuthStore, SQLiteOAuthStore
from mcpwarden.authserver.thirdparty import UserTokenSource
from mcpwarden.authserver.vault import Vault

if TYPE_CHECKING:
    from mcpwarden.config import GatewayConfig
    from mcpwarden.store.postgres import PostgresPool

Audit = Callable[..., None]


def open_oauth_store(config: GatewayConfig, pool: PostgresPool | None = None) -> OAuthStore:
    """The store beside the gateway's other state: its SQLite file, or the shared PostgreSQL."""
    if config.store.backend == "postgres":
        from mcpwarden.authserver.store_pg import PostgresOAuthStore
        from mcpwarden.store.postgres import PostgresPool, apply_migrations

        assert config.store.url is not None
        if pool is not None:
            return PostgresOAuthStore(pool)
        apply_migrations(config.store.url, config.store.schema_name)
        own = PostgresPool(config.store.url, config.store.schema_name, timeout_s=config.store.timeout_s)
        return PostgresOAuthStore(own, owns_pool=True)
    return SQLiteOAuthStore(config.store.path)


def upstream_providers(config: GatewayConfig) -> dict[str, str]:
    """upstream name -> third party, for upstreams whose credentials are `user_oauth`."""
    out: dict[str, str] = {}
    for name, upstream in config.upstreams.items():
        credentials = getattr(upstream, "credentials", None)
        if getattr(credentials, "mode", None) == "user_oauth":
            out[name] = str(credentials.provider)  # type: ignore[union-attr]
    return out


class AuthorizationService:
    def __init__(
        self,
        config: AuthServerConfig,
        *,
        store: OAuthStore,
        resources: list[str],
        upstream_resources: dict[str, str],
        providers_by_upstream: dict[str, str],
        audit: Audit,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.audit = audit
        self.http = http or httpx.AsyncClient(timeout=10.0, follow_redirects=False)
        self.key = SigningKey.load(config.signing_key)
        self.registry = ClientRegistry(store, config.cimd, self.http)
        self.server = Server(config, store, self.key, self.registry)
        self.server.resources = tuple(resources)
        self.login = OidcLogin(config.idp, self.http)
        vault = Vault(config.vault.keys) if config.vault else None
        self.tokens = UserTokenSource(dict(config.third_parties), store, vault, self.http)
        self._upstream_resources = upstream_resources
        self._providers = providers_by_upstream

    def url(self, path: str) -> str:
        return self.config.issuer + path

    def upstreams_for(self, resource: str) -> list[str]:
        """The upstream servers a token for `resource` reaches (all of them for the aggregated one)."""
        names = [u for u, r in self._upstream_resources.items() if r.rstrip("/") == resource.rstrip("/")]
        return sorted(names or self._upstream_resources)

    def third_parties_for(self, resource: str) -> list[str]:
        """Third parties the upstreams behind `resource` act at, in a stable order."""
        return sorted({self._providers[n] for n in self.upstreams_for(resource) if n in self._providers})

    def flush_audit(self) -> None:
        """Write the events authlib's hooks queued (code or refresh reuse, revocations)."""
        events, self.server.events = self.server.events, []
        for event, details in events:
            self.audit(event, reason=event, details=details)

    async def aclose(self) -> None:
        await self.http.aclose()
        self.store.close()

    def metadata(self) -> dict[str, Any]:
        """RFC 8414 authorization server metadata (with RFC 9207 and CIMD support flags)."""
        doc: dict[str, Any] = {
            "issuer": self.config.issuer,
            "authorization_endpoint": self.url("/authorize"),
            "token_endpoint": self.url("/token"),
            "revocation_endpoint": self.url("/revoke"),
            "jwks_uri": self.url("/oauth/jwks"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": [
                "none",
                "client_secret_basic",
                "client_secret_post",
            ],
            "scopes_supported": list(self.config.scopes_supported),
            "authorization_response_iss_parameter_supported": True,
            "client_id_metadata_document_supported": self.config.cimd.enabled,
        }
        if self.config.dynamic_registration:
            doc["registration_endpoint"] = self.url("/register")
        return doc
