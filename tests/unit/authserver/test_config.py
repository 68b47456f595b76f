"""The `authorization_server:` section and how it ties into `auth:` and upstream credentials."""

from __future__ import annotations

from typing import Any

import pytest

from mcpwarden.config import ConfigError, parse_config

IDP = {"issuer": "https://idp.example", "client_id": "gw", "client_secret": "env:IDP_SECRET"}
THIRD = {"kind": "github", "client_id": "Iv1", "client_secret": "env:GH_SECRET"}


def config(**server: Any) -> dict[str, Any]:
    return {"authorization_server": {"issuer": "https://mcp.example.com", "idp": IDP, **server}}


def test_the_resource_server_trusts_the_gateways_own_issuer_by_default() -> None:
    parsed = parse_config(config())
    assert parsed.auth is not None and parsed.auth.issuer == "https://mcp.example.com"


def test_an_auth_issuer_other_than_the_authorization_server_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"auth\.issuer must equal"):
        parse_config({**config(), "auth": {"issuer": "https://other.example"}})


def test_user_oauth_must_name_a_configured_third_party() -> None:
    upstream = {"transport": "http", "url": "https://mcp.github.example/mcp"}
    raw = {
        **config(),
        "upstreams": {"gh": {**upstream, "credentials": {"mode": "user_oauth", "provider": "gh"}}},
    }
    with pytest.raises(ConfigError, match=r"not in authorization_server\.third_parties"):
        parse_config(raw)


def test_third_parties_need_a_vault() -> None:
    with pytest.raises(ConfigError, match="vault"):
        parse_config(config(third_parties={"github": THIRD}))


@pytest.mark.parametrize("issuer", ["http://mcp.example.com", "https://mcp.example.com/as", "ftp://x"])
def test_an_issuer_must_be_https_without_a_path_or_loopback_http(issuer: str) -> None:
    with pytest.raises(ConfigError):
        parse_config({"authorization_server": {"issuer": issuer, "idp": IDP}})


def test_a_loopback_http_issuer_is_accepted() -> None:
    parsed = parse_config({"authorization_server": {"issuer": "http://127.0.0.1:8766", "idp": IDP}})
    assert parsed.authorization_server is not None


def test_the_issuers_origin_is_allowed_so_its_consent_form_can_post() -> None:
    parsed = parse_config(config())
    assert "https://mcp.example.com" in parsed.security.allowed_origins
    local = parse_config({"authorization_server": {"issuer": "http://127.0.0.1:8766", "idp": IDP}})
    assert "http://127.0.0.1:8766" not in local.security.allowed_origins  # the loopback default covers it
