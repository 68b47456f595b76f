"""One real OIDC provider and one gateway with its authorization server, shared by this directory.

The provider (npm `oidc-provider`, tests/fixtures/oidc) plays both roles the issue names:
the enterprise IdP users sign in with (client `gw-login`) and a stand-in third party whose
per-user tokens the gateway keeps (client `gw-third`). Both clients are registered with
redirect URIs on the gateway's port, chosen before either process starts. The upstream
behind the gateway records every request, so a test can see which credential reached it.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixtures.oidc import fixture as oidc_fixture
from gwtest.procs import PYTHON, Gateway, free_port, gateway, http_upstream, stop, wait_http

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
        config = as_config(port, provider.issuer, workdir, f"http://127.0.0.1:{up_port}/mcp")
        with gateway(config, workdir=workdir, port=port) as gw:
            yield Stack(gw, provider, recording, workdir, workdir / "gateway.yaml")
    finally:
        stop(upstream)
        oidc_fixture.stop_provider(provider)
