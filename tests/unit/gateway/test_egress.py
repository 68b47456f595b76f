"""Egress policy for HTTP upstreams: internal addresses refused unless allowed, allow-lists."""

from __future__ import annotations

import ipaddress

import pytest

from mcpwarden.config import ConfigError, parse_config
from mcpwarden.egress import EgressDenied, EgressPolicy, EgressRule, is_internal


@pytest.mark.parametrize(
    "addr",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
    ],
)  # fmt: skip
def test_internal_addresses_are_recognised(addr: str) -> None:
    assert is_internal(ipaddress.ip_address(addr))


@pytest.mark.parametrize("addr", ["93.184.216.34", "2606:4700::1111", "8.8.8.8"])
def test_public_addresses_are_not_internal(addr: str) -> None:
    assert not is_internal(ipaddress.ip_address(addr))


def test_metadata_address_is_refused_with_the_setting_named() -> None:
    policy = EgressPolicy.build("tickets", [], allow_private=False)
    with pytest.raises(EgressDenied, match=r"allow_private: true.*upstreams\.tickets"):
        policy.check_address("evil.example", ipaddress.ip_address("169.254.169.254"), 80)


def test_allow_private_permits_loopback() -> None:
    EgressPolicy.build("local", [], allow_private=True).check_url("http://127.0.0.1:8080/mcp")


def test_listed_network_permits_an_internal_address_without_allow_private() -> None:
    policy = EgressPolicy.build("intra", ["10.1.0.0/16:443"], allow_private=False)
    policy.check_address("mcp.intra", ipaddress.ip_address("10.1.2.3"), 443)
    with pytest.raises(EgressDenied):
        policy.check_address("mcp.intra", ipaddress.ip_address("10.2.0.1"), 443)


def test_unlisted_port_is_refused_when_an_allow_list_exists() -> None:
    policy = EgressPolicy.build("search", ["search.example:443"], allow_private=False)
    policy.check_destination("search.example", 443)
    with pytest.raises(EgressDenied, match=r"not in upstreams\.search\.egress"):
        policy.check_destination("search.example", 8443)


def test_listed_name_rebound_to_an_internal_address_is_still_refused() -> None:
    policy = EgressPolicy.build("search", ["search.example:*"], allow_private=False)
    with pytest.raises(EgressDenied, match="internal address"):
        policy.check_address("search.example", ipaddress.ip_address("127.0.0.1"), 443)


@pytest.mark.parametrize("entry", ["nohost", "host:99999", "host:abc", "[::1]", "a b:80"])
def test_malformed_egress_entries_are_rejected(entry: str) -> None:
    with pytest.raises(ValueError):
        EgressRule.parse(entry)


def test_config_refuses_a_loopback_url_and_names_upstream_and_setting() -> None:
    raw = {"upstreams": {"local": {"transport": "http", "url": "http://127.0.0.1:9/mcp"}}}
    with pytest.raises(ConfigError, match=r"allow_private.*upstreams\.local"):
        parse_config(raw)


def test_config_accepts_a_loopback_url_with_allow_private() -> None:
    raw = {"upstreams": {"local": {"transport": "http", "url": "http://[::1]:9/mcp", "allow_private": True}}}
    assert parse_config(raw).upstreams["local"].allow_private  # type: ignore[union-attr]
