"""`mcpwarden serve -c examples/upstream-oauth.yaml`: RFC 8414 metadata while the IdP is still down."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from as_kit import Pkce, authorize_params, register_client

from gwtest.procs import PYTHON, ROOT, free_port, stop, wait_http

pytestmark = pytest.mark.integration

EXAMPLE = ROOT / "examples" / "upstream-oauth.yaml"


def test_the_example_serves_its_metadata_while_the_idp_is_unreachable(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    port, dead = free_port(), free_port()
    env = {
        **os.environ,
        "MCPWARDEN_ISSUER_URL": f"http://127.0.0.1:{port}",
        "MCPWARDEN_IDP_ISSUER": f"http://127.0.0.1:{dead}",  # nothing listens there
        "MCPWARDEN_IDP_CLIENT_SECRET": "not-used-" + secrets.token_hex(8),
        "MCPWARDEN_THIRD_PARTY_SECRET": "not-used-" + secrets.token_hex(8),
        "MCPWARDEN_VAULT_KEY": secrets.token_hex(32),
        "PATH": f"{Path(PYTHON).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    with (tmp_path / "gateway.log").open("wb") as log:
        proc = subprocess.Popen(
            [PYTHON, "-m", "mcpwarden", "serve", "-c", str(tmp_path / EXAMPLE.name), "--port", str(port)],
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/healthz", proc=proc)
            metadata = httpx.get(f"{base}/.well-known/oauth-authorization-server")
            client = register_client(base, ["http://127.0.0.1:9/cb"])
            params = authorize_params(client, "http://127.0.0.1:9/cb", Pkce(), resource=f"{base}/mcp")
            authorize = httpx.get(f"{base}/authorize?{urlencode(params)}")
        finally:
            stop(proc)
    assert metadata.status_code == 200 and metadata.json()["issuer"] == base
    assert authorize.status_code == 503 and "identity provider unavailable" in authorize.text
