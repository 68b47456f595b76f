"""Client ID Metadata Documents: a URL client id is fetched, and never towards an internal address.

The shared stack allows exactly one loopback port for documents (`cimd.allow`); every other
internal address, whether named directly or reached through a redirect, is refused before
anything is sent, and the client sees a 400 page, never a redirect.
"""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest
from as_kit import Browser, Pkce, authorize_params
from as_stack import Stack

pytestmark = pytest.mark.integration


def authorize(stack: Stack, client_id: str, redirect: str = "http://127.0.0.1:9/cimd-cb") -> httpx.Response:
    params = authorize_params(client_id, redirect, Pkce(), resource=stack.resource("rec"))
    return httpx.get(f"{stack.base}/authorize?{urlencode(params)}")


def test_a_metadata_document_names_the_client_on_the_consent_page(as_stack: Stack) -> None:
    client_id = f"{as_stack.documents}/good.json"
    browser = Browser()
    params = authorize_params(
        client_id, "http://127.0.0.1:9/cimd-cb", Pkce(), resource=as_stack.resource("rec")
    )
    _, page = browser.follow(
        browser.request("GET", f"{as_stack.base}/authorize?{urlencode(params)}"), "http://127.0.0.1:9/"
    )
    assert page.status_code == 200 and "CIMD client" in page.text and client_id in page.text


@pytest.mark.parametrize(
    ("label", "client_id"),
    [
        ("loopback", "http://127.0.0.1:1/client.json"),
        ("loopback by name", "http://localhost:1/client.json"),
        ("ipv6 loopback", "http://[::1]:1/client.json"),
        ("ipv4-mapped loopback", "http://[::ffff:127.0.0.1]:1/client.json"),
        ("link-local metadata service", "http://169.254.169.254/latest/meta-data/"),
        ("private network", "http://10.0.0.1/client.json"),
    ],
)
def test_a_client_id_naming_an_internal_address_is_refused(
    as_stack: Stack, label: str, client_id: str
) -> None:
    response = authorize(as_stack, client_id)
    assert response.status_code == 400 and "location" not in response.headers, label
    assert "internal address" in response.text


@pytest.mark.parametrize("path", ["/to-loopback", "/to-link-local", "/chain"])
def test_a_redirect_towards_an_internal_address_is_refused(as_stack: Stack, path: str) -> None:
    response = authorize(as_stack, f"{as_stack.documents}{path}")
    assert response.status_code == 400 and "location" not in response.headers
    assert "internal address" in response.text or "redirects" in response.text


@pytest.mark.parametrize(("path", "why"), [("/wrong-id.json", "own URL"), ("/big.json", "exceeds")])
def test_a_document_that_does_not_name_itself_or_is_too_large_is_refused(
    as_stack: Stack, path: str, why: str
) -> None:
    response = authorize(as_stack, f"{as_stack.documents}{path}")
    assert response.status_code == 400 and why in response.text
