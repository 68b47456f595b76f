"""Which kill switch a store config opens, and that the SQLite one never loads redis-py.

Importing redis-py costs a gateway start about 0.7 s of CPU; the default SQLite gateway has
no use for it. The import check runs in a fresh interpreter (this one may have loaded redis
for other tests) and looks at the cause, which modules are loaded, not at a time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mcpwarden.admin.killswitch import KillSwitch
from mcpwarden.admin.killswitch_open import open_killswitch
from mcpwarden.config import parse_config

UPSTREAM = {"transport": "http", "url": "http://127.0.0.1:9/mcp", "allow_private": True}

_PROBE = """
import json, sys
from mcpwarden.config import parse_config
from mcpwarden.gateway.core import GatewayCore
config = parse_config({"upstreams": {"up": json.loads(sys.argv[2])}, "store": {"path": sys.argv[1]}})
core = GatewayCore(config, [])
core.enable_registry()
assert core.admission.killswitch is not None
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_a_sqlite_store_opens_the_sqlite_kill_switch(tmp_path: Path) -> None:
    config = parse_config({"upstreams": {"up": UPSTREAM}, "store": {"path": str(tmp_path / "s.sqlite3")}})
    store = config.store
    switch = open_killswitch(store)
    assert isinstance(switch, KillSwitch)
    switch.disable("tool", "up/echo", by="ops")
    assert [d.name for d in KillSwitch(store.path).list()] == ["up/echo"]


def test_a_gateway_on_the_sqlite_store_starts_without_loading_redis(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path / "s.sqlite3"), json.dumps(UPSTREAM)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    modules = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "mcpwarden" in modules and "redis" not in modules
