"""Revoking consents, clients and third-party tokens from the CLI and the admin API."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx
import pytest
import yaml
from as_kit import (
    Browser,
    Pkce,
    authorize_params,
    mcp_initialize,
    register_client,
    run_authorization,
    token_request,
)
from as_stack import ADMIN_TOKEN, REDIRECT, Stack, authorized, oauth_cli, oauth_cli_at

from mcpwarden.authserver.vault import Vault

pytestmark = pytest.mark.integration


def consented(stack: Stack) -> tuple[str, Browser]:
    client = register_client(stack.base, [REDIRECT])
    browser = Browser()
    run_authorization(
        browser, stack.base, authorize_params(client, REDIRECT, Pkce(), resource=stack.resource("rec"))
    )
    return client, browser


def test_a_consent_revoked_from_the_cli_is_asked_for_again(as_stack: Stack) -> None:
    client, browser = consented(as_stack)
    listed = oauth_cli(as_stack, "consents", "list", "--client", client, "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(rows) == 1 and rows[0]["user"] == "alice" and rows[0]["redirect_uri"] == REDIRECT
    revoked = oauth_cli(as_stack, "consents", "revoke", rows[0]["id"])
    assert revoked.returncode == 0, revoked.stderr
    _, page = run_authorization(
        browser, as_stack.base, authorize_params(client, REDIRECT, Pkce(), resource=as_stack.resource("rec"))
    )
    assert page is not None


def test_a_consent_revoked_through_the_admin_api_is_asked_for_again(as_stack: Stack) -> None:
    client, browser = consented(as_stack)
    auth = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    listed = httpx.get(
        f"{as_stack.admin}/v1/oauth/consents", params={"client_id": client}, headers=auth
    ).json()
    assert [c["client_id"] for c in listed["consents"]] == [client]
    deleted = httpx.delete(f"{as_stack.admin}/v1/oauth/consents/{listed['consents'][0]['id']}", headers=auth)
    unauthenticated = httpx.get(f"{as_stack.admin}/v1/oauth/consents")
    assert deleted.status_code == 200 and unauthenticated.status_code == 401
    _, page = run_authorization(
        browser, as_stack.base, authorize_params(client, REDIRECT, Pkce(), resource=as_stack.resource("rec"))
    )
    assert page is not None
    assert "oauth.consent_revoked" in [r.get("reason") for r in as_stack.gateway.audit()]


def test_a_revoked_client_can_neither_authorize_nor_refresh(as_stack: Stack) -> None:
    client, token = authorized(as_stack, "alice")
    revoked = oauth_cli(as_stack, "clients", "revoke", client)
    assert revoked.returncode == 0, revoked.stderr
    refresh = token_request(
        as_stack.base, grant_type="refresh_token", refresh_token=str(token["refresh_token"]), client_id=client
    )
    again = httpx.get(
        f"{as_stack.base}/authorize",
        params=authorize_params(client, REDIRECT, Pkce(), resource=as_stack.resource("rec")),
    )
    assert refresh.status_code in (400, 401)
    assert again.status_code == 400 and "location" not in again.headers


def test_the_token_list_shows_owner_and_key_but_never_the_token(as_stack: Stack) -> None:
    authorized(as_stack, "alice")
    listed = oauth_cli(as_stack, "tokens", "list", "--user", "alice", "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert rows and all(r["provider"] == "demo" and r["user"] == "alice" and r["key_id"] for r in rows)
    assert "access_token" not in listed.stdout and "sealed" not in listed.stdout


def test_a_vault_key_rotation_round_trip_rewraps_every_token(as_stack: Stack, tmp_path: Path) -> None:
    authorized(as_stack, "alice")
    raw = yaml.safe_load(as_stack.config_path.read_text())
    old = raw["authorization_server"]["vault"]["keys"][0]
    (tmp_path / "new-key").write_text(secrets.token_hex(32))
    new = f"file:{tmp_path / 'new-key'}"

    def with_keys(keys: list[str], name: str) -> Path:
        raw["authorization_server"]["vault"]["keys"] = keys
        path = tmp_path / name
        path.write_text(yaml.safe_dump(raw))
        return path

    rotated, back = with_keys([new, old], "rotated.yaml"), with_keys([old, new], "back.yaml")
    forward = oauth_cli_at(rotated, "rewrap")
    listed = oauth_cli_at(rotated, "tokens", "list", "--json").stdout.splitlines()
    returned = oauth_cli_at(back, "rewrap")  # the running gateway only knows the old key
    assert forward.returncode == 0 and not forward.stdout.startswith("re-encrypted 0"), forward.stdout
    assert {json.loads(line)["key_id"] for line in listed} == {Vault([new]).current_kid()}
    assert returned.returncode == 0
    token = authorized(as_stack, "alice")[1]["access_token"]
    assert mcp_initialize(as_stack.resource("rec"), str(token)).status_code == 200
