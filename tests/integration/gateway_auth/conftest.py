"""The gateway as a resource server, run as a real process against a real OIDC provider.

Valid tokens come from npm `oidc-provider` (tests/fixtures/oidc). Claims the provider
would never issue (another issuer, no `exp`, a future `nbf`) are forged with a test key
that the gateway is told to trust alongside the provider's own keys: a JWKS server in
this process publishes both, so a forged token passes the signature check and fails
exactly on the claim under test. Forgeries that must fail *before* any claim is read
(alg none, HS256 keyed with the public key, unknown kid) use no trusted key at all.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey

from fixtures.oidc import fixture as oidc_fixture
from gwtest.procs import Gateway, gateway, stdio_upstream

# The helpers module sits next to this file; make it importable however pytest imports us.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gwauth_kit import TRUSTED_TEST_KID, Keys, auth_config

# The real IdP fixture, shared by the auth suites.
oidc_provider = oidc_fixture.oidc_provider


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _serve_jwks(document: dict[str, Any]) -> tuple[ThreadingHTTPServer, str]:
    body = json.dumps(document).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/jwks"


@pytest.fixture(scope="session")
def keys(oidc_provider: Any) -> Iterator[Keys]:
    trusted = RSAKey.generate_key(2048, parameters={"kid": TRUSTED_TEST_KID, "alg": "RS256", "use": "sig"})
    document = {"keys": [*oidc_provider.jwks()["keys"], trusted.as_dict(private=False)]}
    server, uri = _serve_jwks(document)
    try:
        yield Keys(trusted, uri)
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def gw(oidc_provider: Any, keys: Keys) -> Iterator[Gateway]:
    config = {
        "auth": auth_config(oidc_provider, keys, required_scopes=["mcp:tools"]),
        "upstreams": {"feat": stdio_upstream("feat"), "other": stdio_upstream("other")},
    }
    with gateway(config) as g:
        yield g


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=20) as c:
        yield c
