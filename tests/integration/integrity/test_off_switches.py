"""`pinning: off` and `on_poisoning: off` on one upstream, beside another upstream that keeps
both guards on: the switched-off upstream should be neither pinned nor scanned."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from integrity_kit import names, stdio_fixture

from gwtest.client import sdk_session
from gwtest.procs import Gateway, gateway
from mcpwarden.store import SQLiteStore

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    workdir = tmp_path_factory.mktemp("off")
    config = {
        "upstreams": {
            "guarded": stdio_fixture("rugpull", pinning="tofu", on_poisoning="quarantine"),
            "trusted": stdio_fixture("poisoned", pinning="off", on_poisoning="off"),
        },
        "store": {"path": str(workdir / "pins.sqlite3")},
    }
    with gateway(config, workdir=workdir) as g:
        yield g


def store_of(gw: Gateway) -> Path:
    return gw.audit_path.parent / "pins.sqlite3"


async def test_guarded_upstream_beside_a_trusted_one_is_pinned(gw: Gateway) -> None:
    async with sdk_session(gw.url("guarded")) as (s, _):
        assert names(await s.list_tools()) == {"lookup", "flip"}
    store = SQLiteStore(store_of(gw))
    assert {p.name for p in store.list_pins("guarded")} == {"lookup", "flip"}


async def test_pinning_off_upstream_is_not_pinned(gw: Gateway) -> None:
    async with sdk_session(gw.url("trusted")) as (s, _):
        await s.list_tools()
    assert SQLiteStore(store_of(gw)).list_pins("trusted") == []


async def test_on_poisoning_off_upstream_is_not_scanned(gw: Gateway) -> None:
    async with sdk_session(gw.url("trusted")) as (s, _):
        await s.list_tools()
    assert not [r for r in gw.audit() if r.get("guard") == "poisoning" and r.get("upstream") == "trusted"]
