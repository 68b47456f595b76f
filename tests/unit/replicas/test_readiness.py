"""GatewayCore.readiness(): what /readyz answers, without a server."""

from __future__ import annotations

from pathlib import Path

from mcpwarden.config import parse_config
from mcpwarden.gateway.core import GatewayCore


def core_for(tmp_path: Path, upstreams: dict[str, object]) -> GatewayCore:
    config = parse_config({"upstreams": upstreams, "store": {"path": str(tmp_path / "s.sqlite3")}})
    core = GatewayCore(config, [])
    core.enable_registry()
    return core


UPSTREAM = {"transport": "http", "url": "http://127.0.0.1:9/mcp", "allow_private": True}


def test_ready_with_an_upstream_and_a_reachable_store(tmp_path: Path) -> None:
    ok, checks = core_for(tmp_path, {"up": UPSTREAM}).readiness()
    assert ok and checks["sqlite"] == "ok" and checks["upstreams"] == 1


def test_not_ready_without_upstreams(tmp_path: Path) -> None:
    ok, checks = core_for(tmp_path, {}).readiness()
    assert not ok and checks["upstreams"] == 0


def test_not_ready_while_draining(tmp_path: Path) -> None:
    core = core_for(tmp_path, {"up": UPSTREAM})
    core.draining = True
    ok, checks = core.readiness()
    assert not ok and checks["draining"] is True


def test_not_ready_when_the_store_file_is_gone(tmp_path: Path) -> None:
    core = core_for(tmp_path, {"up": UPSTREAM})
    assert core.registry is not None
    core.registry.close()
    ok, checks = core.readiness()
    assert not ok and checks["sqlite"] == "unavailable"
    assert checks["down"] == ["sqlite"]


def test_the_store_gauge_reports_each_backend_up_or_down(tmp_path: Path) -> None:
    from mcpwarden.gateway.replication import store_state

    core = core_for(tmp_path, {"up": UPSTREAM})
    assert store_state(core) == {"sqlite": True}
    assert core.registry is not None
    core.registry.close()
    assert store_state(core) == {"sqlite": False}


def test_a_ready_replica_names_no_backend_down(tmp_path: Path) -> None:
    _, checks = core_for(tmp_path, {"up": UPSTREAM}).readiness()
    assert "down" not in checks
