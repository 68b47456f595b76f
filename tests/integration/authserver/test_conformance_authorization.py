"""The official MCP conformance suite's `authorization` leg against the gateway's authorization server.

The suite (@modelcontextprotocol/conformance, pinned in package.json, under Node 22) runs
both of its authorization-server scenarios in one process, the way its CLI does without
`--scenario` (the code grant reads the authorization endpoint from the metadata scenario's
result): `authorization-server-metadata-endpoint`, then `authorization-code-grant`, which
prints an authorization URL and waits for its own callback server at
http://127.0.0.1:PORT/callback. Nothing here shapes that URL: Chromium (Playwright) opens it
as printed, signs in at the real OIDC provider's form (the suite sends no `login_hint`),
allows on the gateway's consent page, passes through the third party, and lands on the
suite's callback; the suite then redeems the code itself with PKCE and checks the token
response. The suite's client is registered the way an MCP client would be: Dynamic Client
Registration, public (`none`), with the suite's callback as its one redirect URI.

Every check the suite reports must be SUCCESS: there is no baseline of expected failures.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from as_kit import register_client
from as_stack import Stack, forget_third_party_tokens

from gwtest.procs import ROOT, free_port

pytestmark = pytest.mark.integration

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NODE = ROOT / "node_modules" / ".bin" / "node"
SUITE = ROOT / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
BROWSER = ROOT / "tests" / "browser" / "authorize_as_user.mjs"
SCENARIOS = ("authorization-server-metadata-endpoint", "authorization-code-grant")
USER = "bob"


class SuiteRun:
    """The suite as a child process; its stdout is read on a thread until it prints the URL."""

    def __init__(self, node: str, issuer: str, client_id: str, resource: str, port: int, out: Path) -> None:
        self.proc = subprocess.Popen(
            [node, str(SUITE), "authorization", "--url", issuer, "--client-id", client_id,
             "--resource", resource, "--port", str(port), "-o", str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
        )  # fmt: skip
        self.prefix = f"{issuer}/authorize?"
        self.lines: list[str] = []
        self.url: str | None = None
        self.printed = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if self.url is None and line.startswith(self.prefix):
                self.url = line.strip()
                self.printed.set()
        self.printed.set()  # it ended without printing one: stop waiting

    def authorization_url(self) -> str:
        self.printed.wait(60)
        assert self.url is not None, "\n".join(self.lines)
        return self.url

    def finish(self, wait_s: float) -> int:
        """Its exit status; it is killed after `wait_s` (0: now, e.g. the browser never reached
        its callback, which it would otherwise await for five minutes)."""
        try:
            code = self.proc.wait(wait_s) if wait_s else -1
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
        self.reader.join(5)
        return code

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def as_user(node: str, url: str, redirect_prefix: str) -> dict[str, object]:
    done = subprocess.run(
        [node, str(BROWSER), url, redirect_prefix, USER],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def suite_checks(out: Path) -> dict[str, list[dict[str, object]]]:
    """{scenario: its checks} from the suite's `authorization-server-<scenario>-<time>/checks.json`."""
    found: dict[str, list[dict[str, object]]] = {}
    for scenario in SCENARIOS:
        files = sorted(out.glob(f"authorization-server-{scenario}-*/checks.json"))
        assert len(files) == 1, (scenario, sorted(p.name for p in out.iterdir()))
        found[scenario] = json.loads(files[0].read_text())
    return found


def test_the_conformance_suite_authorization_leg_passes_every_check(as_stack: Stack, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: scripts/install-chromium.sh installs it (make test runs it)")
    node = str(NODE) if NODE.exists() else shutil.which("node")
    if node is None or not SUITE.exists() or not (ROOT / "node_modules" / "playwright-core").exists():
        pytest.skip("Node test tools are missing: make install-node installs them")
    forget_third_party_tokens(as_stack, USER)  # the browser goes through the third party too
    port = free_port()
    callback = f"http://127.0.0.1:{port}/callback"
    client = register_client(as_stack.base, [callback], client_name="MCP conformance suite")
    suite = SuiteRun(node, as_stack.base, client, as_stack.resource("rec"), port, tmp_path)
    seen: dict[str, object] = {"error": "the browser did not finish"}
    try:
        seen = as_user(node, suite.authorization_url(), callback)
    finally:
        code = suite.finish(60 if seen.get("error") is None else 0)
    assert seen.get("error") is None, (seen, suite.output)
    assert seen["signedIn"] and seen["consented"] and seen["clientName"] == "MCP conformance suite", seen
    checks = suite_checks(tmp_path)
    failed = [
        (scenario, check["id"], check["status"], check.get("errorMessage"))
        for scenario, found in checks.items()
        for check in found
        if check["status"] != "SUCCESS"
    ]
    assert failed == [], suite.output
    ran = {str(check["id"]) for found in checks.values() for check in found}
    assert {"authorization-server-metadata", "authorization-code-grant"} <= ran, ran
    assert code == 0, suite.output
