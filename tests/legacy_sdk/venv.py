"""A virtual environment holding the 1.x SDK, created from the package registry once per test session.

The project itself runs on the 2.x SDK. Clients and servers in the field still use 1.x, so a few
tests drive the gateway with a 1.x client, and the live scan inspects a real third-party 1.x server
(`mcp-server-time`, whose releases import 1.x names); they cannot share the project's environment
(one `mcp` per environment), and a second lock file would drift, so exact pins are installed beside
it with the project's own `uv`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

LEGACY_PACKAGES = ("mcp==1.30.0", "mcp-server-time==2026.10.10")
CLIENT_SCRIPT = Path(__file__).with_name("client_v1.py")


def find_uv() -> str:
    """The `uv` that `make install` uses: on PATH, or where its fallback installs it."""
    found = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    if not Path(found).exists():
        raise RuntimeError("uv is not installed: run `make install` first")
    return found


def create_legacy_venv(where: Path) -> Path:
    """Create a venv at `where` with the 1.x SDK (and a 1.x server) and return its Python."""
    uv = find_uv()
    env = {**os.environ, "UV_NO_PROGRESS": "1"}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(where)], check=True, env=env)
    python = where / "bin" / "python"
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(python), *LEGACY_PACKAGES],
        check=True,
        env=env,
        timeout=300,
    )
    return python
