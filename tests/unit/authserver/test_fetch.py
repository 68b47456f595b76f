"""The SSRF checks of the metadata-document fetcher, before any connection is made."""

from __future__ import annotations

import pytest

from mcpwarden.authserver.fetch import FetchLimits, FetchRefused, checked_target
from mcpwarden.egress import EgressRule

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x",
        "https://[::1]/x",
        "https://[::ffff:169.254.169.254]/x",
        "https://169.254.169.254/latest",
        "https://10.1.2.3/x",
        "https://100.64.0.1/x",
        "https://0.0.0.0/x",
    ],
)
async def test_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(FetchRefused, match="internal address"):
        await checked_target(url, FetchLimits())


async def test_http_and_credentials_are_refused_by_default() -> None:
    with pytest.raises(FetchRefused, match="https"):
        await checked_target("http://93.184.215.14/x", FetchLimits())
    with pytest.raises(FetchRefused, match="credentials"):
        await checked_target("https://user:pw@93.184.215.14/x", FetchLimits())


async def test_an_allow_entry_admits_exactly_its_address_and_port() -> None:
    limits = FetchLimits(allow=(EgressRule.parse("127.0.0.1:8443"),))
    pinned, host, _ = await checked_target("https://127.0.0.1:8443/doc.json", limits)
    assert pinned == "https://127.0.0.1:8443/doc.json" and host == "127.0.0.1:8443"
    with pytest.raises(FetchRefused):
        await checked_target("https://127.0.0.1:8444/doc.json", limits)
