"""What a gateway loads at start: client libraries only for the upstreams and stores it has.

Every `mcpwarden wrap` an MCP client launches, every restart and every worker the supervisor
replaces pays its imports: redis-py about 0.7 s of CPU on a 2-core machine, aiohttp about
0.27 s, httpx about 0.18 s. A gateway of stdio upstreams on the SQLite store needs none of
them. The check runs in a fresh interpreter (this one has loaded everything for other tests)
and looks at the cause, the loaded modules, not at a time (bench/gateway_start.py times it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_PROBE = """
import json, sys
import mcpwarden.gateway.app, mcpwarden.gateway.wrap  # what serve and wrap import
from mcpwarden.config import parse_config
from mcpwarden.gateway.core import GatewayCore
config = parse_config({"upstreams": json.loads(sys.argv[2]), "store": {"path": sys.argv[1]}})
core = GatewayCore(config, [])
core.enable_registry()
assert core.admission.killswitch is not None
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""
STDIO = {"transport": "stdio", "command": sys.executable, "args": ["-c", "pass"]}
HTTP = {"transport": "http", "url": "http://127.0.0.1:9/mcp", "allow_private": True}


def _modules_after_start(tmp_path: Path, upstreams: dict[str, object]) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path / "s.sqlite3"), json.dumps(upstreams)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_gateway_of_stdio_upstreams_on_sqlite_loads_no_network_client_library(tmp_path: Path) -> None:
    modules = _modules_after_start(tmp_path, {"local": STDIO})
    assert "mcpwarden" in modules
    assert not {"redis", "aiohttp", "httpx"} & modules


def test_a_gateway_with_an_http_upstream_on_sqlite_still_loads_no_redis(tmp_path: Path) -> None:
    modules = _modules_after_start(tmp_path, {"remote": HTTP})
    assert "redis" not in modules
