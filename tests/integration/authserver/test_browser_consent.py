"""The consent flow in a real browser: Debian's Chromium driven by Playwright, through the real
OIDC provider as enterprise IdP and as the third party, ending with a code that the test
redeems and a token the gateway's resource server accepts."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from as_kit import Pkce, authorize_params, mcp_initialize, redeem, register_client
from as_stack import Stack, forget_third_party_tokens

from gwtest.procs import ROOT

pytestmark = pytest.mark.integration

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NODE = ROOT / "node_modules" / ".bin" / "node"
SCRIPT = ROOT / "tests" / "browser" / "consent_flow.mjs"
CLIENT_PAGE = b"<!doctype html><title>client</title><iframe id=f></iframe>"


@contextlib.contextmanager
def client_site() -> Iterator[str]:
    """The MCP client's redirect target: a page of its own origin (it also frames the consent page)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(CLIENT_PAGE)))
            self.end_headers()
            self.wfile.write(CLIENT_PAGE)

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def in_browser(authorize_url: str, redirect_prefix: str) -> dict[str, object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: scripts/install-chromium.sh installs it (make test runs it)")
    node = str(NODE) if NODE.exists() else shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "playwright-core").exists():
        pytest.skip("Node test tools are missing: make install-node installs them")
    done = subprocess.run(
        [node, str(SCRIPT), authorize_url, redirect_prefix],
        capture_output=True, text=True, timeout=180, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_user_consents_in_chromium_and_the_client_gets_a_working_token(as_stack: Stack) -> None:
    forget_third_party_tokens(as_stack, "alice")  # the run goes through the third party too
    with client_site() as site:
        redirect = f"{site}browser-cb"
        client = register_client(as_stack.base, [redirect], client_name="Browser Test Client")
        pkce = Pkce()
        resource = as_stack.resource("rec")
        params = authorize_params(client, redirect, pkce, resource=resource, user="alice")
        seen = in_browser(f"{as_stack.base}/authorize?{urlencode(params)}", site)
    assert seen.get("error") is None, seen
    assert seen["clientName"] == "Browser Test Client"
    assert "__Host-mcpwarden-state" not in seen["cookiesBeforeConsent"]  # type: ignore[operator]
    for cookie in seen["gatewayCookies"]:  # type: ignore[attr-defined]
        assert (
            cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
        )
    assert seen["framedHasAllowButton"] is False
    query = parse_qs(urlsplit(str(seen["finalUrl"])).query)
    assert query["state"] == [params["state"]] and query["iss"] == [as_stack.base]
    token = redeem(as_stack.base, client, query["code"][0], redirect, pkce, resource)
    assert token.status_code == 200, token.text
    assert mcp_initialize(resource, token.json()["access_token"]).status_code == 200
