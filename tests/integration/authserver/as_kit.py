"""Helpers for driving the gateway's authorization server the way a browser and an MCP client do.

`Browser` keeps cookies the way Chromium does for a loopback origin: `__Host-`/Secure
cookies are kept and sent over http://127.0.0.1 (a potentially trustworthy origin), and
cookies are shared across ports of one host. It follows redirects one hop at a time so a
test can stop at the client's redirect URI (never fetched) or inspect any hop.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

CONSENT_FIELDS = re.compile(r'name=tx value="([^"]+)".*?name=csrf value="([^"]+)"', re.S)


@dataclass
class Pkce:
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Browser:
    def __init__(self) -> None:
        self.jar: dict[str, str] = {}
        self.http = httpx.Client(follow_redirects=False, timeout=30)
        self.visited: list[str] = []

    def close(self) -> None:
        self.http.close()

    def _remember(self, response: httpx.Response) -> None:
        for raw in response.headers.get_list("set-cookie"):
            first, *attributes = [part.strip() for part in raw.split(";")]
            name, _, value = first.partition("=")
            lowered = [a.lower() for a in attributes]
            if "max-age=0" in lowered or value in ("", '""'):
                self.jar.pop(name, None)
            else:
                self.jar[name] = value

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.jar:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        self.visited.append(url)
        response = self.http.request(method, url, headers=headers, **kwargs)
        self._remember(response)
        return response

    def follow(
        self, response: httpx.Response, stop_prefix: str, hops: int = 15
    ) -> tuple[str, httpx.Response]:
        """Follow redirects until one points at `stop_prefix` (returned, not fetched) or a page."""
        for _ in range(hops):
            if response.status_code not in (301, 302, 303, 307):
                return str(response.url), response
            location = urljoin(str(response.url), response.headers["location"])
            if location.startswith(stop_prefix):
                return location, response
            response = self.request("GET", location)
        raise AssertionError("too many redirects")


def register_client(base: str, redirect_uris: list[str], **extra: Any) -> str:
    body = {
        "redirect_uris": redirect_uris,
        "token_endpoint_auth_method": "none",
        "client_name": "test client",
    }
    response = httpx.post(f"{base}/register", json={**body, **extra})
    assert response.status_code == 201, response.text
    return str(response.json()["client_id"])


def authorize_params(
    client_id: str,
    redirect_uri: str,
    pkce: Pkce | None,
    *,
    resource: str,
    user: str = "alice",
    scope: str = "mcp:tools",
    state: str | None = None,
    method: str = "S256",
) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state or secrets.token_urlsafe(12),
        "resource": resource,
        "login_hint": user,
    }
    if pkce is not None:
        params["code_challenge"] = pkce.verifier if method == "plain" else pkce.challenge
        params["code_challenge_method"] = method
    return params


def consent_fields(page: httpx.Response) -> tuple[str, str]:
    found = CONSENT_FIELDS.search(page.text)
    assert found is not None, f"no consent form in {page.status_code}: {page.text[:500]}"
    return found.group(1), found.group(2)


def run_authorization(
    browser: Browser, base: str, params: dict[str, str], *, decision: str = "allow"
) -> tuple[dict[str, list[str]], httpx.Response | None]:
    """Drive /authorize to the client's redirect; (its query, the consent page if one was shown)."""
    start = browser.request("GET", f"{base}/authorize?{urlencode(params)}")
    location, response = browser.follow(start, params["redirect_uri"])
    page = None
    if not location.startswith(params["redirect_uri"]):
        assert response.status_code == 200 and "id=allow" in response.text, (
            response.status_code,
            response.text[:500],
        )
        page = response
        tx, csrf = consent_fields(response)
        answer = browser.request(
            "POST", f"{base}/oauth/consent", data={"tx": tx, "csrf": csrf, "decision": decision}
        )
        location, response = browser.follow(answer, params["redirect_uri"])
    assert location.startswith(params["redirect_uri"]), (location, response.status_code, response.text[:300])
    return parse_qs(urlsplit(location).query), page


def token_request(base: str, **form: str) -> httpx.Response:
    return httpx.post(f"{base}/token", data=form)


def redeem(
    base: str, client_id: str, code: str, redirect_uri: str, pkce: Pkce, resource: str
) -> httpx.Response:
    return token_request(
        base,
        grant_type="authorization_code",
        code=code,
        redirect_uri=redirect_uri,
        client_id=client_id,
        code_verifier=pkce.verifier,
        resource=resource,
    )


def mcp_initialize(url: str, token: str) -> httpx.Response:
    return httpx.post(
        url,
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        },
        headers={
            "authorization": f"Bearer {token}",
            "accept": "application/json, text/event-stream",
            "content-type": "application/json",
        },
        timeout=30,
    )
