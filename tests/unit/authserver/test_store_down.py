"""With its store away, the authorization server answers 503 with a reason and an audit record."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mcpwarden.authserver.browser_flow import BrowserFlow
from mcpwarden.authserver.config import AuthServerConfig
from mcpwarden.authserver.endpoints import Endpoints
from mcpwarden.authserver.mount import guarded
from mcpwarden.authserver.service import AuthorizationService
from mcpwarden.authserver.store import OAuthStore
from mcpwarden.store.base import StoreUnavailable

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class DownStore(OAuthStore):
    def _execute(self, sql: str, params: tuple[Any, ...]) -> int:
        raise StoreUnavailable("PostgreSQL store unreachable: test")

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise StoreUnavailable("PostgreSQL store unreachable: test")

    def close(self) -> None:
        return None


async def test_registration_and_authorization_fail_closed_with_503_and_an_audit_record() -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    config = AuthServerConfig.model_validate(
        {
            "issuer": "http://127.0.0.1:8766",
            "idp": {"issuer": "https://idp.example", "client_id": "g", "client_secret": "env:X"},
        }
    )
    service = AuthorizationService(
        config, store=DownStore(), resources=["http://127.0.0.1:8766/mcp"], upstream_resources={},
        providers_by_upstream={}, audit=lambda event, **fields: events.append((event, fields)),
    )  # fmt: skip
    routes = guarded([*Endpoints(service).routes(), *BrowserFlow(service).routes()], service.audit)
    transport = httpx.ASGITransport(app=Starlette(routes=routes))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8766") as client:
        register = await client.post("/register", json={"redirect_uris": ["https://a.example/cb"]})
        authorize = await client.get("/authorize", params={"client_id": "c1"})
        metadata = await client.get("/.well-known/oauth-authorization-server")
    assert register.status_code == 503 and authorize.status_code == 503
    assert register.json()["error"] == "temporarily_unavailable"
    assert metadata.status_code == 200
    assert [fields["reason"] for event, fields in events if event == "rejected"] == ["store.unavailable"] * 2
