"""`mcpwarden init`: a commented gateway config for the MCP servers this machine's clients use,
and the change that puts `mcpwarden wrap` in front of each stdio server, shown as a diff.

Discovery is the scanner's (the same client config locations `scan` lists). Nothing of the
user's client configs changes without `--apply`; with it, each changed file is first copied to
`FILE.mcpwarden-backup`. Secrets are never copied: environment values and HTTP headers of the
servers are left out of the generated config, which names them in comments instead.
"""

from __future__ import annotations

import argparse
import difflib
import ipaddress
import json
import os
import re
import shutil
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mcpwarden.cli import EXIT_OK, UsageError
from mcpwarden.commands.state import state_home
from mcpwarden.egress import is_internal

if TYPE_CHECKING:
    from mcpwarden.scan.model import ServerEntry


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "init",
        help="write a gateway config for your clients' MCP servers; show the wrap changes",
        description="Find the MCP servers configured in this machine's clients (as `scan` does), write a "
        "commented gateway config for them, and show as a diff how each client config would run its "
        "stdio servers through `mcpwarden wrap`. Client configs change only with --apply.",
    )
    p.add_argument("--output", "-o", type=Path, help="gateway config to write (default: %(default)s)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --output file")
    p.add_argument("--apply", action="store_true", help="rewrite the client configs as shown (backups kept)")
    p.add_argument("--home", type=Path, help="home directory to discover configs in (default: yours)")
    p.add_argument(
        "--platform", choices=("linux", "darwin", "win32"), help="config layout (default: this one)"
    )
    p.add_argument(
        "--project", type=Path, help="project folder for .mcp.json, .vscode/… (default: current dir)"
    )
    p.add_argument("--no-project", action="store_true", help="skip project-level configs")
    p.set_defaults(handler=run, output=None)


def run(args: argparse.Namespace) -> int:
    from mcpwarden.scan.formats import load_location
    from mcpwarden.scan.locations import discover, normalize_platform
    from mcpwarden.scan.model import ConfigError

    home = args.home or Path.home()
    project = None if args.no_project else (args.project or Path.cwd())
    locations = discover(home, normalize_platform(args.platform or sys.platform), dict(os.environ), project)
    servers: list[ServerEntry] = []
    for loc in locations:
        try:
            servers.extend(load_location(loc))
        except ConfigError as exc:
            print(f"mcpwarden init: skipping {loc.path}: {exc}", file=sys.stderr)
    if not servers:
        raise UsageError(
            "no MCP servers found in this machine's client configs (`mcpwarden scan` lists where it looks)"
        )
    names = upstream_names(servers)
    output = args.output or _default_output()
    if output.exists() and not args.force:
        raise UsageError(
            f"{output} already exists; pass --force to overwrite it or --output for another file"
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(gateway_yaml(servers, names), encoding="utf-8")
    count = len(set(names.values()))
    print(f"wrote {output} ({count} upstreams); check it with: mcpwarden config check {output}")
    changes = wrap_changes(servers, names, {loc.path: loc.format for loc in locations})
    for path, (before, after) in changes.items():
        sys.stdout.writelines(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                after.splitlines(keepends=True),
                str(path),
                f"{path} (wrapped)",
            )
        )
    for entry in servers:
        if entry.transport == "stdio" and not _wrapped(entry) and entry.file not in changes:
            print(f"# {entry.file}: edit by hand: run {entry.name!r} as `mcpwarden wrap --name "
                  f"{names[_key(entry)]} -- {entry.command} ...` (this format is not rewritten)")  # fmt: skip
    if not changes:
        print("no client config needs a change")
    elif args.apply:
        for path, (before, after) in changes.items():
            _apply(path, before, after)
            print(f"updated {path} (backup: {path.name}.mcpwarden-backup)")
    else:
        print("nothing changed in the client configs; run again with --apply to make these changes")
    return EXIT_OK


def _apply(path: Path, before: str, after: str) -> None:
    """Back the file up, then replace it in one step (a client reading it meanwhile sees the
    old or the new file, never half of one), keeping its permissions. A file that changed
    since it was read is not overwritten."""
    from mcpwarden.scan.formats import read_text

    if read_text(path) != before:
        raise UsageError(f"{path} changed while init ran; nothing was written to it, run init again")
    shutil.copy2(path, path.with_name(path.name + ".mcpwarden-backup"))
    temp = path.with_name(f".{path.name}.mcpwarden-{os.getpid()}")
    try:
        with open(temp, "w", encoding="utf-8", newline="") as f:
            f.write(after)
        shutil.copymode(path, temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _default_output() -> Path:
    env = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(env) if os.path.isabs(env) else Path.home() / ".config"
    return base / "mcpwarden" / "gateway.yaml"


def _key(entry: ServerEntry) -> tuple[str, str]:
    return (str(entry.file), entry.name)


def upstream_names(servers: list[ServerEntry]) -> dict[tuple[str, str], str]:
    """A valid, unique upstream name per server; the same server in two clients shares one."""
    names: dict[tuple[str, str], str] = {}
    seen: dict[str, tuple[Any, ...]] = {}
    for entry in servers:
        identity = (entry.transport, entry.command, entry.args, entry.url)
        base = re.sub(r"[^a-z0-9]+", "-", entry.name.lower()).strip("-")[:40]
        base = base if base[:1].isalpha() else f"s-{base}".rstrip("-")
        name, n = base, 1
        while name in seen and seen[name] != identity:
            n += 1
            name = f"{base}-{n}"
        seen[name] = identity
        names[_key(entry)] = name
    return names


def gateway_yaml(servers: list[ServerEntry], names: dict[tuple[str, str], str]) -> str:
    """The config as commented YAML (values written as JSON, which YAML reads as is)."""
    state = state_home() / "mcpwarden" / "gateway"
    files = sorted({str(e.file) for e in servers})
    lines = [
        f"# mcpwarden gateway config, written by `mcpwarden init` on {datetime.now(UTC):%Y-%m-%d}.",
        "# Servers found in:",
        *(f"#   {f}" for f in files),
        "# Check it: mcpwarden config check THIS_FILE    Run it: mcpwarden serve -c THIS_FILE",
        "# Every key is described in docs/configuration.md (and `mcpwarden config schema`).",
        "",
        "listen: {host: 127.0.0.1, port: 8765}   # loopback only; remote use needs `auth:`",
        f"audit: {{path: {json.dumps(str(state / 'audit.jsonl'))}}}",
        f"store: {{path: {json.dumps(str(state / 'pins.sqlite3'))}}}",
        "",
        "upstreams:",
    ]
    done: set[str] = set()
    for entry in servers:
        name = names[_key(entry)]
        if name in done:
            continue
        done.add(name)
        lines.append(f"  # {entry.client}: {entry.file}, server {entry.name!r}")
        if not entry.enabled:
            lines.append("  # (disabled in the client config)")
        lines.append(f"  {name}:")
        if entry.transport == "stdio" and entry.command:
            command, args = _unwrapped(entry)
            lines.append("    transport: stdio")
            lines.append(f"    command: {json.dumps(command)}")
            lines.append(f"    args: {json.dumps(args)}")
            if entry.cwd:
                lines.append(f"    cwd: {json.dumps(entry.cwd)}")
            passthrough = sorted({"PATH", "HOME", *entry.env_keys})
            lines.append(f"    env_passthrough: {json.dumps(passthrough)}")
            if entry.env_keys:
                lines.append(
                    f"    # the client set {', '.join(entry.env_keys)} for it: export them before `serve` "
                    "(values are never copied here)"
                )
        else:
            lines.append("    transport: http")
            lines.append(f"    url: {json.dumps(entry.url or '')}")
            if _internal_url(entry.url or ""):
                lines.append("    allow_private: true  # it listens on this machine or an internal network")
            if entry.header_keys:
                lines.append(
                    f"    # the client sent headers {', '.join(entry.header_keys)}: put credentials under "
                    "`credentials:` as env:/file: references (docs/auth.md)"
                )
        lines.append("    pinning: tofu        # approve | tofu | locked | off (docs/pinning.md)")
        lines.append("    tools: {deny: []}    # tool names (globs) this server must never run")
    return "\n".join(lines) + "\n"


def _internal_url(url: str) -> bool:
    """Whether the gateway's egress policy would refuse this URL without `allow_private`."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return is_internal(ipaddress.ip_address(host))
    except ValueError:
        return False


def _wrapped(entry: ServerEntry) -> bool:
    return bool(
        entry.command and Path(entry.command).name.startswith("mcpwarden") and entry.args[:1] == ("wrap",)
    )


def _unwrapped(entry: ServerEntry) -> tuple[str, list[str]]:
    """The server's own command, also when a client config already runs it through wrap."""
    if _wrapped(entry) and "--" in entry.args:
        rest = list(entry.args[entry.args.index("--") + 1 :])
        if rest:
            return rest[0], rest[1:]
    return str(entry.command), list(entry.args)


def wrap_changes(
    servers: list[ServerEntry], names: dict[tuple[str, str], str], formats: Mapping[Path, str]
) -> dict[Path, tuple[str, str]]:
    """For each client config with stdio servers to wrap: (text now, text with them wrapped).

    Only `command` and `args` of those servers change (see `client_edit`); a file that cannot
    be edited safely is reported and left out, and its servers are listed for editing by hand.
    """
    from mcpwarden.commands.client_edit import EditError, WrapEdit, edit_json, edit_toml
    from mcpwarden.scan.formats import locate, read_text
    from mcpwarden.scan.model import ConfigError

    out: dict[Path, tuple[str, str]] = {}
    for path in sorted({e.file for e in servers}):
        todo = [
            e for e in servers if e.file == path and e.transport == "stdio" and e.command and not _wrapped(e)
        ]
        if not todo:
            continue
        try:
            fmt = formats.get(path) or locate(path).format
            before = read_text(path)
            edits = [
                WrapEdit(
                    _server_path(fmt, e, before),
                    "mcpwarden",
                    ("wrap", "--name", names[_key(e)], "--", str(e.command)),
                )
                for e in todo
            ]
            if fmt == "codex-toml":
                after = edit_toml(before, edits)
            else:
                after = edit_json(before, edits, jsonc=fmt in ("vscode-mcp", "vscode-settings"))
        except (ConfigError, EditError) as exc:
            print(f"mcpwarden init: not changing {path}: {exc}", file=sys.stderr)
            continue
        if after != before:
            out[path] = (before, after)
    return out


def _server_path(fmt: str, entry: ServerEntry, text: str) -> tuple[str, ...]:
    """Where the scanner found `entry` in its file, as keys from the top."""
    if fmt == "codex-toml":
        return ("mcp_servers", entry.name)
    if fmt == "vscode-mcp":
        return ("servers", entry.name)
    if fmt == "vscode-settings":
        from mcpwarden.scan.jsonc import parse

        root = parse(text.removeprefix("\ufeff"), comments=True, trailing_commas=True).value
        flat = isinstance(root, dict) and "mcp.servers" in root
        return ("mcp.servers", entry.name) if flat else ("mcp", "servers", entry.name)
    if fmt == "claude-user" and entry.scope:
        return ("projects", entry.scope, "mcpServers", entry.name)
    return ("mcpServers", entry.name)
