"""Fixtures of the authorization-server tests: the shared stack (see as_stack.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from as_stack import RECORDER, Stack, as_config, provider_clients, serve_documents

from fixtures.oidc import fixture as oidc_fixture
from gwtest.procs import PYTHON, free_port, gateway, stop, wait_http


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
        admin_port = free_port()
        upstream_url = f"http://127.0.0.1:{up_port}/mcp"
        config = as_config(port, provider.issuer, workdir, upstream_url, admin_port, cimd=cimd)
        with gateway(config, workdir=workdir, port=port) as gw:
            admin = f"http://127.0.0.1:{admin_port}"
            yield Stack(gw, provider, recording, workdir, workdir / "gateway.yaml", docs, admin)
        documents.shutdown()
    finally:
        stop(upstream)
        oidc_fixture.stop_provider(provider)
