"""CORS for browser-based clients: off unless `security.cors_origins` lists an origin; then a
real page from that origin, in Debian's Chromium driven by Playwright, initializes a session,
reads `Mcp-Session-Id` and lists tools through the gateway, while a page from another origin
cannot read anything."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gwtest.procs import PYTHON, ROOT, free_port, gateway, stdio_upstream, stop, wait_http

pytestmark = pytest.mark.integration

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NODE = ROOT / "node_modules" / ".bin" / "node"
SCRIPT = ROOT / "tests" / "browser" / "cors_page.mjs"


@contextlib.contextmanager
def page_server(folder: Path) -> Iterator[str]:
    """A static page on its own loopback port: its own browser origin."""
    port = free_port()
    proc = subprocess.Popen(
        [PYTHON, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/index.html", proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def in_browser(gateway_url: str, page_url: str) -> dict[str, object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: scripts/install-chromium.sh installs it (make test runs it)")
    node = str(NODE) if NODE.exists() else shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "playwright-core").exists():
        pytest.skip("Node test tools are missing: make install-node installs them")
    done = subprocess.run(
        [node, str(SCRIPT), gateway_url, page_url], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_page_from_an_allowed_origin_uses_the_gateway_and_another_origin_cannot(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>mcp client</title>")
    with page_server(tmp_path) as allowed, page_server(tmp_path) as other:
        config = {"security": {"cors_origins": [allowed]}, "upstreams": {"feat": stdio_upstream("feat")}}
        with gateway(config) as gw:
            url = gw.url("feat")
            good = in_browser(url, f"{allowed}/index.html")
            bad = in_browser(url, f"{other}/index.html")
    assert good.get("error") is None, good
    assert good["initStatus"] == 200 and good["initializedStatus"] == 202
    assert isinstance(good["sessionId"], str) and good["sessionId"]
    assert "echo" in good["tools"]  # type: ignore[operator]
    assert "Failed to fetch" in str(bad["error"])


def test_cors_is_off_unless_configured() -> None:
    with gateway({"upstreams": {"feat": stdio_upstream("feat")}}) as gw, httpx.Client(timeout=30) as client:
        preflight = client.options(
            gw.url("feat"),
            headers={"origin": "http://127.0.0.1:9999", "access-control-request-method": "POST"},
        )
    assert "access-control-allow-origin" not in preflight.headers


def test_preflight_allows_the_mcp_headers_and_responses_expose_session_and_auth_headers() -> None:
    origin = "http://127.0.0.1:9999"
    config = {"security": {"cors_origins": [origin]}, "upstreams": {"feat": stdio_upstream("feat")}}
    with gateway(config) as gw, httpx.Client(timeout=30) as client:
        preflight = client.options(
            gw.url("feat"),
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type, mcp-session-id, authorization, x-evil",
            },
        )
        answer = client.post(
            gw.url("feat"), content=b"{}", headers={"origin": origin, "content-type": "application/json"}
        )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    assert preflight.headers["access-control-allow-headers"] == "content-type, mcp-session-id, authorization"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert answer.headers["access-control-allow-origin"] == origin
    exposed = {h.strip().lower() for h in answer.headers["access-control-expose-headers"].split(",")}
    assert {"mcp-session-id", "www-authenticate"} <= exposed
