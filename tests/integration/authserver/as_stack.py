"""The shared stack of the authorization-server tests: config, provider clients, document server.

One real OIDC provider and one gateway with its authorization server, shared by this directory.

The provider (npm `oidc-provider`, tests/fixtures/oidc) plays both roles the issue names:
the enterprise IdP users sign in with (client `gw-login`) and a stand-in third party whose
per-user tokens the gateway keeps (client `gw-third`). Both clients are registered with
redirect URIs on the gateway's port, chosen before either process starts. The upstream
behind the gateway records every request, so a test can see which credential reached it.
"""

from __future__ import annotations

import contextlib
import io
import json
import secrets
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from as_kit import Browser, Pkce, authorize_params, redeem, register_client, run_authorization

from fixtures.oidc import fixture as oidc_fixture
from gwtest.procs import Gateway, http_upstream
from mcpwarden.authserver.store import SQLiteOAuthStore
from mcpwarden.cli import main

HERE = Path(__file__).resolve().parent
RECORDER = HERE.parent / "gateway_auth" / "recording_server.py"

IDP_SECRET = "login-secret-" + "0123456789abcdef"
ADMIN_TOKEN = "admin-token-" + "0123456789abcdef"
THIRD_SECRET = "third-secret-" + "0123456789abcdef"


@dataclass
class Stack:
    gateway: Gateway
    provider: oidc_fixture.OidcProvider
    recording: Path
    workdir: Path
    config_path: Path
    documents: str  # base URL of the client metadata documents server (allowed for CIMD)
    admin: str  # base URL of the admin API

    @property
    def base(self) -> str:
        return self.gateway.base

    def resource(self, upstream: str | None = None) -> str:
        return self.gateway.url(upstream)


def as_config(
    port: int, issuer: str, secrets_dir: Path, upstream_url: str, admin_port: int, **extra: object
) -> dict[str, object]:
    (secrets_dir / "idp").write_text(IDP_SECRET)
    (secrets_dir / "third").write_text(THIRD_SECRET)
    (secrets_dir / "vault").write_text(secrets.token_hex(32))
    (secrets_dir / "admin").write_text(ADMIN_TOKEN)
    return {
        "authorization_server": {
            "issuer": f"http://127.0.0.1:{port}",
            "idp": {
                "issuer": issuer,
                "client_id": "gw-login",
                "client_secret": f"file:{secrets_dir / 'idp'}",
            },
            "third_parties": {
                "demo": {
                    "authorization_endpoint": f"{issuer}/auth",
                    "token_endpoint": f"{issuer}/token",
                    "client_id": "gw-third",
                    "client_secret": f"file:{secrets_dir / 'third'}",
                    "scopes": ["openid"],
                }
            },
            "vault": {"keys": [f"file:{secrets_dir / 'vault'}"]},
            "scopes_supported": ["mcp:tools", "mcp:read"],
            **extra,
        },
        "admin": {"listen": f"127.0.0.1:{admin_port}", "token": f"file:{secrets_dir / 'admin'}"},
        "upstreams": {
            "rec": http_upstream(upstream_url, credentials={"mode": "user_oauth", "provider": "demo"})
        },
    }


def provider_clients(port: int) -> list[dict[str, object]]:
    base = f"http://127.0.0.1:{port}"
    return [
        {
            "client_id": "gw-login",
            "client_secret": IDP_SECRET,
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "redirect_uris": [f"{base}/oauth/login/callback"],
        },
        {
            "client_id": "gw-third",
            "client_secret": THIRD_SECRET,
            "token_endpoint_auth_method": "client_secret_post",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "redirect_uris": [f"{base}/oauth/upstream/callback"],
        },
    ]


def serve_documents(port_of_refused: int) -> ThreadingHTTPServer:
    """Client ID Metadata Documents (and hostile variants) on a loopback port the gateway may fetch."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            redirects = {
                "/to-loopback": f"http://127.0.0.1:{port_of_refused}/client.json",
                "/to-link-local": "http://169.254.169.254/latest/meta-data/",
                "/chain": "/to-loopback",
            }
            if self.path in redirects:
                self.send_response(302)
                self.send_header("location", redirects[self.path])
                self.end_headers()
                return
            document: dict[str, object] = {
                "client_id": base + self.path,
                "client_name": "CIMD client",
                "redirect_uris": ["http://127.0.0.1:9/cimd-cb"],
                "token_endpoint_auth_method": "none",
            }
            if self.path == "/wrong-id.json":
                document["client_id"] = base + "/other.json"
            body = json.dumps(document).encode()
            if self.path == "/big.json":
                body = json.dumps({**document, "padding": "x" * 40_000}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def open_store(stack: Stack) -> SQLiteOAuthStore:
    """The gateway's authorization records, for setting up a case (e.g. forget a user's token)."""
    return SQLiteOAuthStore(stack.workdir / "store.sqlite3")


def forget_third_party_tokens(stack: Stack, user: str) -> None:
    store = open_store(stack)
    try:
        store.revoke_where("vault", user_id=user)
    finally:
        store.close()


REDIRECT = "http://127.0.0.1:9/cb"


def authorized(stack: Stack, user: str, upstream: str | None = "rec") -> tuple[str, dict[str, object]]:
    """(client id, token response) of a full authorization for `user` at one resource."""
    client = register_client(stack.base, [REDIRECT])
    pkce = Pkce()
    resource = stack.resource(upstream)
    browser = Browser()
    try:
        query, _ = run_authorization(
            browser, stack.base, authorize_params(client, REDIRECT, pkce, resource=resource, user=user)
        )
    finally:
        browser.close()
    response = redeem(stack.base, client, query["code"][0], REDIRECT, pkce, resource)
    assert response.status_code == 200, response.text
    return client, dict(response.json())


def recorded_bearers(stack: Stack) -> list[str]:
    bearers = []
    for line in stack.recording.read_text().splitlines():
        for name, value in json.loads(line)["headers"]:
            if name == "authorization":
                bearers.append(value.removeprefix("Bearer "))
    return bearers


def userinfo_subject(stack: Stack, token: str) -> str:
    response = httpx.get(f"{stack.provider.issuer}/me", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return str(response.json()["sub"])


def oauth_cli_at(config_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`mcpwarden oauth GROUP ACTION -c CONFIG ARGS...`, run in this process through the real entry point."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["oauth", *args[:2], "-c", str(config_path), *args[2:]])
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def oauth_cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return oauth_cli_at(stack.config_path, *args)
