"""A virtual environment holding the 1.x SDK, created from the package registry once per test session.

The project itself runs on the 2.x SDK. Clients in the field still use 1.x, so a few tests drive
the gateway with it; it cannot share the project's environment (one `mcp` per environment), and a
second lock file would drift, so an exact pin is installed beside it with the project's own `uv`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

LEGACY_MCP = "mcp==1.30.0"
CLIENT_SCRIPT = Path(__file__).with_name("client_v1.py")


def find_uv() -> str:
    """The `uv` that `make install` uses: on PATH, or where its fallback installs it."""
    found = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    if not Path(found).exists():
        raise RuntimeError("uv is not installed: run `make install` first")
    return found


def create_legacy_venv(where: Path) -> Path:
    """Create a venv at `where` with the 1.x SDK and return its Python interpreter."""
    uv = find_uv()
    env = {**os.environ, "UV_NO_PROGRESS": "1"}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(where)], check=True, env=env)
    python = where / "bin" / "python"
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(python), LEGACY_MCP], check=True, env=env, timeout=300
    )
    return python
