"""Where each MCP client keeps its server list, per platform.

Discovery takes the home directory, platform and environment as parameters instead of
reading them from the process so that tests (and `--home`) can point it at a fixture
tree laid out like a Linux, macOS or Windows profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Platform = Literal["linux", "darwin", "win32"]
PLATFORMS: tuple[Platform, ...] = ("linux", "darwin", "win32")

# How a file is laid out; see `formats.py`.
Format = Literal["mcpServers", "claude-user", "vscode-settings", "vscode-mcp", "codex-toml"]


@dataclass(frozen=True, slots=True)
class ConfigLocation:
    client: str
    path: Path
    format: Format
    scope: Literal["user", "project", "explicit"]


def normalize_platform(value: str) -> Platform:
    if value.startswith("linux"):
        return "linux"
    if value in ("darwin", "macos", "mac"):
        return "darwin"
    if value in ("win32", "windows", "cygwin"):
        return "win32"
    raise ValueError(f"unknown platform {value!r}; expected linux, darwin or win32")


def _app_config_dir(home: Path, platform: Platform, env: Mapping[str, str]) -> Path:
    """The per-user application config folder Electron apps (Claude Desktop, VS Code) use."""
    if platform == "darwin":
        return home / "Library" / "Application Support"
    if platform == "win32":
        appdata = env.get("APPDATA")
        return Path(appdata) if appdata else home / "AppData" / "Roaming"
    xdg = env.get("XDG_CONFIG_HOME")
    return Path(xdg) if xdg else home / ".config"


def user_locations(home: Path, platform: Platform, env: Mapping[str, str]) -> list[ConfigLocation]:
    """Every user-level config file the supported clients read, existing or not."""
    app = _app_config_dir(home, platform, env)
    codex_home = Path(env["CODEX_HOME"]) if env.get("CODEX_HOME") else home / ".codex"
    out = [
        ConfigLocation("claude-desktop", app / "Claude" / "claude_desktop_config.json", "mcpServers", "user"),
        ConfigLocation("claude-code", home / ".claude.json", "claude-user", "user"),
        ConfigLocation("cursor", home / ".cursor" / "mcp.json", "mcpServers", "user"),
        ConfigLocation("windsurf", home / ".codeium" / "windsurf" / "mcp_config.json", "mcpServers", "user"),
        ConfigLocation("gemini", home / ".gemini" / "settings.json", "mcpServers", "user"),
        ConfigLocation("codex", codex_home / "config.toml", "codex-toml", "user"),
    ]
    for product in ("Code", "Code - Insiders"):
        user_dir = app / product / "User"
        out.append(ConfigLocation("vscode", user_dir / "settings.json", "vscode-settings", "user"))
        out.append(ConfigLocation("vscode", user_dir / "mcp.json", "vscode-mcp", "user"))
    return out


def project_locations(project: Path) -> list[ConfigLocation]:
    """Config files a client reads from the workspace it is opened in."""
    return [
        ConfigLocation("claude-code", project / ".mcp.json", "mcpServers", "project"),
        ConfigLocation("cursor", project / ".cursor" / "mcp.json", "mcpServers", "project"),
        ConfigLocation("vscode", project / ".vscode" / "mcp.json", "vscode-mcp", "project"),
        ConfigLocation("vscode", project / ".vscode" / "settings.json", "vscode-settings", "project"),
        ConfigLocation("gemini", project / ".gemini" / "settings.json", "mcpServers", "project"),
    ]


def discover(
    home: Path, platform: Platform, env: Mapping[str, str], project: Path | None = None
) -> list[ConfigLocation]:
    """The candidate locations that exist as files, user level first, without duplicates."""
    candidates = user_locations(home, platform, env)
    if project is not None:
        candidates += project_locations(project)
    seen: set[Path] = set()
    found: list[ConfigLocation] = []
    for loc in candidates:
        try:
            resolved = loc.path.resolve()
            if resolved in seen or not loc.path.is_file():
                continue
        except OSError:
            continue
        seen.add(resolved)
        found.append(loc)
    return found


def classify(path: Path) -> ConfigLocation | None:
    """Guess the client and format of an explicitly named file from its name and folder.

    Returns None when the name says nothing; the loader then looks at the content.
    """
    name, parent = path.name, path.parent.name
    rules: list[tuple[bool, str, Format]] = [
        (name == ".claude.json", "claude-code", "claude-user"),
        (name == ".mcp.json", "claude-code", "mcpServers"),
        (name == "claude_desktop_config.json", "claude-desktop", "mcpServers"),
        (name == "mcp.json" and parent == ".cursor", "cursor", "mcpServers"),
        (name == "mcp.json" and parent in (".vscode", "User"), "vscode", "vscode-mcp"),
        (name == "settings.json" and parent in (".vscode", "User"), "vscode", "vscode-settings"),
        (name == "mcp_config.json", "windsurf", "mcpServers"),
        (name == "settings.json" and parent == ".gemini", "gemini", "mcpServers"),
        (path.suffix == ".toml", "codex", "codex-toml"),
    ]
    for matches, client, fmt in rules:
        if matches:
            return ConfigLocation(client, path, fmt, "explicit")
    return None
