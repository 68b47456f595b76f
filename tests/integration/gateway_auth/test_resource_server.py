"""The gateway as an OAuth 2.1 resource server, seen by real clients with real tokens."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gwauth_kit import Keys, audited, auth_config, bearer, claims_for, reason_of

from gwtest.client import sdk_session
from gwtest.procs import Gateway, gateway, stdio_upstream
from gwtest.raw import init_body, open_session, post

pytestmark = pytest.mark.integration

PUBLIC = "https://gw.example.test"


@pytest.fixture(scope="module")
def proxied(oidc_provider: Any, keys: Keys) -> Iterator[Gateway]:
    """A gateway behind a (notional) TLS proxy: public_url fixes every audience."""
    config = {
        "public_url": PUBLIC,
        "auth": auth_config(
            oidc_provider,
            keys,
            endpoints={f"{PUBLIC}/servers/admin/mcp": {"required_scopes": ["mcp:admin"]}},
        ),
        "upstreams": {"feat": stdio_upstream("feat"), "admin": stdio_upstream("admin")},
    }
    with gateway(config) as g:
        yield g


@pytest.mark.anyio
async def test_sdk_client_with_a_real_token_uses_the_aggregated_endpoint(
    gw: Gateway, oidc_provider: Any
) -> None:
    token = oidc_provider.authorization_code("alice", gw.url())["access_token"]
    async with sdk_session(gw.url(), authorization=f"Bearer {token}") as (s, _):
        names = {t.name for t in (await s.list_tools()).tools}
    assert {"feat__echo", "other__echo"} <= names


@pytest.mark.anyio
async def test_sdk_client_with_a_real_token_uses_a_per_upstream_endpoint(
    gw: Gateway, oidc_provider: Any
) -> None:
    token = oidc_provider.client_credentials(gw.url("feat"))
    async with sdk_session(gw.url("feat"), authorization=f"Bearer {token}") as (s, _):
        result = await s.call_tool("echo", {"text": "hi"})
    assert result.content[0].text == "feat: hi"  # type: ignore[union-attr]
    starts = [r for r in gw.audit() if r["event"] == "session.start"]
    assert starts[-1]["principal"] == f"{oidc_provider.issuer}|service-client|service-client"


def test_session_id_without_token_is_401(gw: Gateway, client: httpx.Client, oidc_provider: Any) -> None:
    token = oidc_provider.client_credentials(gw.url("feat"))
    client.headers.update(bearer(token))
    sid = open_session(client, gw.url("feat"))
    del client.headers["authorization"]
    r = post(
        client,
        gw.url("feat"),
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        **{"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"},
    )
    assert r.status_code == 401 and reason_of(r) == "auth.missing"


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_get_and_delete_need_a_token_too(
    gw: Gateway, client: httpx.Client, oidc_provider: Any, method: str
) -> None:
    token = oidc_provider.client_credentials(gw.url("feat"))
    client.headers.update(bearer(token))
    sid = open_session(client, gw.url("feat"))
    r = httpx.request(
        method,
        gw.url("feat"),
        headers={"mcp-session-id": sid, "accept": "text/event-stream"},
        timeout=10,
    )
    assert r.status_code == 401
    assert audited(gw, "auth.missing", "rejected")[-1]["details"]["http_method"] == method


def test_401_challenge_names_metadata_and_baseline_scope_without_error_code(
    gw: Gateway, client: httpx.Client
) -> None:
    r = post(client, gw.url(), init_body())
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == (
        f'Bearer resource_metadata="{gw.base}/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"'
    )


def test_garbage_token_gets_invalid_token_challenge(gw: Gateway, client: httpx.Client) -> None:
    r = post(client, gw.url("feat"), init_body(), **bearer("not-a-jwt"))
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


@pytest.mark.parametrize("upstream", [None, "feat", "other"])
def test_path_inserted_metadata_describes_each_endpoint(
    gw: Gateway, client: httpx.Client, oidc_provider: Any, upstream: str | None
) -> None:
    suffix = f"/servers/{upstream}/mcp" if upstream else "/mcp"
    r = client.get(f"{gw.base}/.well-known/oauth-protected-resource{suffix}")
    assert r.status_code == 200
    assert r.json() == {
        "resource": gw.url(upstream),
        "authorization_servers": [oidc_provider.issuer],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["mcp:tools"],
        "resource_name": f"mcpwarden {upstream}" if upstream else "mcpwarden",
    }


def test_root_metadata_describes_the_aggregated_endpoint(gw: Gateway, client: httpx.Client) -> None:
    r = client.get(f"{gw.base}/.well-known/oauth-protected-resource")
    assert r.status_code == 200 and r.json()["resource"] == gw.url()


def test_metadata_of_unknown_upstream_is_404(gw: Gateway, client: httpx.Client) -> None:
    r = client.get(f"{gw.base}/.well-known/oauth-protected-resource/servers/nope/mcp")
    assert r.status_code == 404


def test_metadata_is_behind_the_host_check(gw: Gateway, client: httpx.Client) -> None:
    r = client.get(f"{gw.base}/.well-known/oauth-protected-resource", headers={"host": "rebind.example.com"})
    assert r.status_code == 421


def test_metadata_ignores_forged_forwarded_headers(gw: Gateway, client: httpx.Client) -> None:
    r = client.get(
        f"{gw.base}/.well-known/oauth-protected-resource/mcp",
        headers={"x-forwarded-proto": "https", "x-forwarded-host": "evil.example.com"},
    )
    assert r.json()["resource"] == gw.url()


def test_unknown_upstream_is_401_before_404_for_anonymous_callers(gw: Gateway, client: httpx.Client) -> None:
    assert post(client, f"{gw.base}/servers/nope/mcp", init_body()).status_code == 401


def test_public_url_sets_the_audience_behind_a_proxy(
    proxied: Gateway, client: httpx.Client, oidc_provider: Any
) -> None:
    token = oidc_provider.client_credentials(f"{PUBLIC}/servers/feat/mcp")
    assert post(client, proxied.url("feat"), init_body(), **bearer(token)).status_code == 200
    metadata = client.get(f"{proxied.base}/.well-known/oauth-protected-resource/servers/feat/mcp").json()
    assert metadata["resource"] == f"{PUBLIC}/servers/feat/mcp"


def test_local_url_is_not_an_audience_once_public_url_is_set(
    proxied: Gateway, client: httpx.Client, oidc_provider: Any
) -> None:
    token = oidc_provider.client_credentials(proxied.url("feat"))
    r = post(client, proxied.url("feat"), init_body(), **bearer(token))
    assert r.status_code == 401 and reason_of(r) == "token.audience"


def test_endpoint_scope_missing_is_403_insufficient_scope(
    proxied: Gateway, client: httpx.Client, oidc_provider: Any
) -> None:
    token = oidc_provider.client_credentials(f"{PUBLIC}/servers/admin/mcp", scope="mcp:tools")
    r = post(client, proxied.url("admin"), init_body(), **bearer(token))
    assert r.status_code == 403 and reason_of(r) == "scope.insufficient"
    assert r.headers["www-authenticate"] == (
        f'Bearer resource_metadata="{PUBLIC}/.well-known/oauth-protected-resource/servers/admin/mcp", '
        'scope="mcp:admin", error="insufficient_scope", '
        'error_description="this operation needs scope mcp:admin"'
    )
    assert audited(proxied, "scope.insufficient", "rejected")


def test_endpoint_scope_granted_is_accepted(
    proxied: Gateway, client: httpx.Client, oidc_provider: Any
) -> None:
    token = oidc_provider.client_credentials(f"{PUBLIC}/servers/admin/mcp", scope="mcp:tools mcp:admin")
    assert post(client, proxied.url("admin"), init_body(), **bearer(token)).status_code == 200


def test_public_url_host_is_an_allowed_host(
    proxied: Gateway, client: httpx.Client, oidc_provider: Any
) -> None:
    token = oidc_provider.client_credentials(f"{PUBLIC}/servers/feat/mcp")
    r = post(client, proxied.url("feat"), init_body(), host="gw.example.test", **bearer(token))
    assert r.status_code == 200


def test_get_stream_ends_when_the_token_it_was_opened_with_expires(
    gw: Gateway, client: httpx.Client, oidc_provider: Any, keys: Keys
) -> None:
    client.headers.update(bearer(oidc_provider.client_credentials(gw.url("feat"))))
    sid = open_session(client, gw.url("feat"))
    short = keys.sign(
        claims_for(
            oidc_provider.issuer,
            gw.url("feat"),
            sub="service-client",
            client_id="service-client",
            exp=int(time.time()) + 2,
        )
    )
    headers = {"mcp-session-id": sid, "accept": "text/event-stream", **bearer(short)}
    with httpx.stream("GET", gw.url("feat"), headers=headers, timeout=30) as r:
        assert r.status_code == 200
        received = b"".join(r.iter_raw())
    assert received.startswith(b": stream open")
