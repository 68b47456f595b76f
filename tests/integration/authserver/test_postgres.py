"""The authorization server on the shared PostgreSQL store (what replicas use): its table comes
from the store migrations, clients registered at the gateway are seen by the CLI, and a
revocation made through the CLI is honoured by the running gateway."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest
from as_kit import Pkce, authorize_params, register_client
from as_stack import oauth_cli_at

from gwtest.procs import free_port, gateway, stdio_upstream
from gwtest.services import POSTGRES_URL, REDIS_URL, scratch_prefix, scratch_schema

pytestmark = pytest.mark.integration


def test_clients_live_in_postgres_and_a_cli_revocation_reaches_the_gateway(tmp_path: Path) -> None:
    port = free_port()
    idp = tmp_path / "idp"
    idp.write_text("not-used-" + secrets.token_hex(8))
    (tmp_path / "signing.pem").write_text(_pem())
    with scratch_schema() as schema, scratch_prefix() as prefix:
        config = {
            "authorization_server": {
                "issuer": f"http://127.0.0.1:{port}",
                "signing_key": f"file:{tmp_path / 'signing.pem'}",
                "idp": {"issuer": "http://127.0.0.1:9", "client_id": "gw", "client_secret": f"file:{idp}"},
            },
            "upstreams": {"feat": stdio_upstream("feat")},
            "store": {"backend": "postgres", "url": POSTGRES_URL, "schema_name": schema,
                      "redis_url": REDIS_URL, "redis_prefix": prefix},
        }  # fmt: skip
        with gateway(config, workdir=tmp_path, port=port) as gw:
            client = register_client(gw.base, ["http://127.0.0.1:9/cb"])
            listed = oauth_cli_at(tmp_path / "gateway.yaml", "clients", "list", "--json")
            revoked = oauth_cli_at(tmp_path / "gateway.yaml", "clients", "revoke", client)
            params = authorize_params(client, "http://127.0.0.1:9/cb", Pkce(), resource=f"{gw.base}/mcp")
            refused = httpx.get(f"{gw.base}/authorize", params=params)
    assert client in listed.stdout and revoked.returncode == 0
    assert refused.status_code == 400 and "revoked" in refused.text


def _pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
