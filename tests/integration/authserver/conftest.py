"""One real OIDC provider and one gateway with its authorization server, shared by this directory.

The provider (npm `oidc-provider`, tests/fixtures/oidc) plays both roles the issue names:
the enterprise IdP users sign in with (client `gw-login`) and a stand-in third party whose
per-user tokens the gateway keeps (client `gw-third`). Both clients are registered with
redirect URIs on the gateway's port, chosen before either process starts. The upstream
behind the gateway records every request, so a test can see which credential reached it.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fixtures.oidc import fixture as oidc_fixture
from gwtest.procs import PYTHON, Gateway, free_port, gateway, http_upstream, stop, wait_http
from mcpwarden.authserver.store import SQLiteOAuthStore

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
RECORDER = HERE.parent / "gateway_auth" / "recording_server.py"

IDP_SECRET = "login-secret-" + "0123456789abcdef"
THIRD_SECRET = "third-secret-" + "0123456789abcdef"


@dataclass
class Stack:
    gateway: Gateway
    provider: oidc_fixture.OidcProvider
    recording: Path
    workdir: Path
    config_path: Path
    documents: str  # base URL of the client metadata documents server (allowed for CIMD)

    @property
    def base(self) -> str:
        return self.gateway.base

    def resource(self, upstream: str | None = None) -> str:
        return self.gateway.url(upstream)


def as_config(
    port: int, issuer: str, secrets_dir: Path, upstream_url: str, **extra: object
) -> dict[str, object]:
    (secrets_dir / "idp").write_text(IDP_SECRET)
    (secrets_dir / "third").write_text(THIRD_SECRET)
    (secrets_dir / "vault").write_text(secrets.token_hex(32))
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


@pytest.fixture(scope="session")
def as_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("authserver")
    port = free_port()
    provider = oidc_fixture.start_provider(extra_clients=provider_clients(port))
    recording = workdir / "upstream.jsonl"
    recording.touch()
    up_port = free_port()
    upstream = subprocess.Popen(
        [PYTHON, str(RECORDER), "--port", str(up_port), "--log", str(recording)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{up_port}/mcp", proc=upstream)
        documents = serve_documents(up_port)
        docs = f"http://127.0.0.1:{documents.server_address[1]}"
        cimd = {"require_https": False, "allow": [f"127.0.0.1:{documents.server_address[1]}"]}
        config = as_config(port, provider.issuer, workdir, f"http://127.0.0.1:{up_port}/mcp", cimd=cimd)
        with gateway(config, workdir=workdir, port=port) as gw:
            yield Stack(gw, provider, recording, workdir, workdir / "gateway.yaml", docs)
        documents.shutdown()
    finally:
        stop(upstream)
        oidc_fixture.stop_provider(provider)


def open_store(stack: Stack) -> SQLiteOAuthStore:
    """The gateway's authorization records, for setting up a case (e.g. forget a user's token)."""
    return SQLiteOAuthStore(stack.workdir / "store.sqlite3")


def forget_third_party_tokens(stack: Stack, user: str) -> None:
    store = open_store(stack)
    try:
        store.revoke_where("vault", user_id=user)
    finally:
        store.close()
