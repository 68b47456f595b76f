"""Where commands that run without a config file keep their state: one folder per server
under the per-user state directory, named so that it survives restarts and upgrades."""

from __future__ import annotations

import os
import re
from pathlib import Path

DEFAULT_NAME = "wrapped"

# Launchers whose first non-option argument names the actual server (npx -y PKG, uvx PKG...).
_LAUNCHERS = frozenset(
    {"npx", "uvx", "pipx", "bunx", "node", "python", "python3", "deno", "bun", "uv", "docker", "podman"}
)


def state_home() -> Path:
    """$XDG_STATE_HOME, or ~/.local/state as the XDG base directory spec says."""
    env = os.environ.get("XDG_STATE_HOME", "")
    return Path(env) if os.path.isabs(env) else Path.home() / ".local" / "state"


def server_slug(command: list[str]) -> str:
    """A folder name for a wrapped server that stays the same across versions and restarts.

    `npx -y @scope/server-filesystem@1.2 /dir` -> `server-filesystem`: the version is left out
    on purpose, since keeping the pins across an upgrade is what catches a changed definition.
    """
    words = [Path(command[0]).name]
    if words[0] in _LAUNCHERS:
        words = [w for w in command[1:] if not w.startswith("-") and w not in ("run", "exec", "x")][
            :1
        ] or words
    word = words[0].rsplit("/", 1)[-1]
    if "@" in word[1:]:
        word = word[: word.index("@", 1)]
    word = word.removesuffix(".py").removesuffix(".js").lstrip("@")
    slug = re.sub(r"[^a-z0-9]+", "-", word.lower()).strip("-")[:48]
    return slug or DEFAULT_NAME
