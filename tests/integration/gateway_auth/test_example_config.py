"""`mcpwarden serve -c examples/oauth-gateway.yaml` against the real OIDC provider."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gwtest.client import sdk_session
from gwtest.procs import PYTHON, ROOT, free_port, stop, wait_http
from gwtest.raw import init_body, post

pytestmark = [pytest.mark.integration]

EXAMPLE = ROOT / "examples" / "oauth-gateway.yaml"


@pytest.fixture(scope="module")
def example(oidc_provider: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example, copied so its relative state paths land in a temporary directory."""
    workdir = tmp_path_factory.mktemp("example")
    shutil.copy(EXAMPLE, workdir / EXAMPLE.name)
    shutil.copy(EXAMPLE.with_name("oauth-gateway.policy.yaml"), workdir / "oauth-gateway.policy.yaml")
    port = free_port()
    env = {
        **os.environ,
        "MCPWARDEN_ISSUER": oidc_provider.issuer,
        # The example runs `python`: make it the interpreter that has mcpwarden installed.
        "PATH": f"{Path(PYTHON).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("MCPWARDEN_PUBLIC_URL", None)
    log = (workdir / "gateway.log").open("wb")
    proc = subprocess.Popen(
        [PYTHON, "-m", "mcpwarden", "serve", "-c", str(workdir / EXAMPLE.name), "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
        log.close()


def test_example_requires_a_token(example: str) -> None:
    with httpx.Client(timeout=20) as client:
        r = post(client, f"{example}/servers/notes/mcp", init_body())
    assert r.status_code == 401
    assert 'scope="mcp:tools"' in r.headers["www-authenticate"]


def test_example_metadata_names_the_configured_issuer(example: str, oidc_provider: Any) -> None:
    document = httpx.get(f"{example}/.well-known/oauth-protected-resource/servers/notes/mcp").json()
    assert document["authorization_servers"] == [oidc_provider.issuer]
    assert document["resource"] == f"{example}/servers/notes/mcp"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("user", "visible"),
    [
        ("bob", {"search_notes", "read_note", "summarize_note"}),
        (
            "alice",
            {"search_notes", "read_note", "summarize_note", "add_note", "reindex_notes", "check_inbox"},
        ),
    ],
)
async def test_example_shows_each_user_the_tools_of_their_roles(
    example: str, oidc_provider: Any, user: str, visible: set[str]
) -> None:
    url = f"{example}/servers/notes/mcp"
    token = oidc_provider.authorization_code(user, url)["access_token"]
    async with sdk_session(url, authorization=f"Bearer {token}") as (s, _):
        assert {t.name for t in (await s.list_tools()).tools} == visible
