"""Which kill switch a store config opens (that the SQLite gateway loads no Redis client is
checked in tests/unit/gateway/test_start_imports.py)."""

from __future__ import annotations

from pathlib import Path

from mcpwarden.admin.killswitch import KillSwitch
from mcpwarden.admin.killswitch_open import open_killswitch
from mcpwarden.config import parse_config

UPSTREAM = {"transport": "http", "url": "http://127.0.0.1:9/mcp", "allow_private": True}


def test_a_sqlite_store_opens_the_sqlite_kill_switch(tmp_path: Path) -> None:
    config = parse_config({"upstreams": {"up": UPSTREAM}, "store": {"path": str(tmp_path / "s.sqlite3")}})
    store = config.store
    switch = open_killswitch(store)
    assert isinstance(switch, KillSwitch)
    switch.disable("tool", "up/echo", by="ops")
    assert [d.name for d in KillSwitch(store.path).list()] == ["up/echo"]
