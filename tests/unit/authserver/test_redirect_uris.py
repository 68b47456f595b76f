"""Redirect-URI rules: exact match, loopback port variation only for native clients."""

from __future__ import annotations

import pytest

from mcpwarden.authserver.clients import ClientMetadataError, check_redirect_uri, redirect_uri_matches


@pytest.mark.parametrize(
    "requested",
    ["https://a.example/cb/", "https://a.example/cb?x", "https://A.example/cb", "https://a.example:444/cb"],
)
def test_anything_but_the_exact_uri_is_refused(requested: str) -> None:
    assert not redirect_uri_matches("https://a.example/cb", requested, native=True)


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "localhost"])
def test_native_clients_may_use_any_port_on_their_loopback_uri(host: str) -> None:
    assert redirect_uri_matches(f"http://{host}/cb", f"http://{host}:49152/cb", native=True)
    assert not redirect_uri_matches(f"http://{host}/cb", f"http://{host}:49152/cb", native=False)


def test_loopback_port_variation_keeps_host_and_path() -> None:
    assert not redirect_uri_matches("http://127.0.0.1/cb", "http://127.0.0.1:5000/other", native=True)
    assert not redirect_uri_matches("http://127.0.0.1/cb", "http://localhost:5000/cb", native=True)
    assert not redirect_uri_matches("http://127.0.0.1/cb", "http://user@127.0.0.1:5000/cb", native=True)


@pytest.mark.parametrize(
    "uri", ["javascript:alert(1)", "http://app.example/cb", "https://a.example/cb#f", "data:text/html,x"]
)
def test_unsafe_redirect_uris_cannot_be_registered(uri: str) -> None:
    with pytest.raises(ClientMetadataError):
        check_redirect_uri(uri, "web")


def test_native_clients_may_register_a_private_use_scheme() -> None:
    check_redirect_uri("com.example.app:/oauth", "native")
    with pytest.raises(ClientMetadataError):
        check_redirect_uri("com.example.app:/oauth", "web")
