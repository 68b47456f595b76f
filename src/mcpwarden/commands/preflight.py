"""What `serve` would fail on, found before it starts: shared by `config check` and `serve`.

A config can be valid by its schema and still not run: a policy file that is not there, a
stdio command that is not installed, a secret reference to a missing file or an unset
variable, a state folder that cannot be written, a port already taken. `serve` used to find
these one by one, mid-start, as tracebacks; here each is one sentence naming the file and the
key path as written in it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcpwarden.config import GatewayConfig


def problems(config: GatewayConfig, source: str, *, raw: Any = None, check_port: bool = True) -> list[str]:
    """Every problem found, one sentence each (empty when serve can start)."""
    from mcpwarden.config import StdioUpstream

    out: list[str] = []
    if not config.upstreams:
        out.append(
            f"{source}: upstreams: no upstream is configured, so the gateway would serve nothing; "
            "add one under `upstreams:` (see docs/configuration.md)"
        )
    if config.policy:
        out.extend(_policy_problem(config.policy, source))
    for name, up in config.upstreams.items():
        if isinstance(up, StdioUpstream):
            problem = command_problem(up.command)
            if problem:
                out.append(f"{source}: upstreams.{name}.command: {problem}")
            if up.cwd and not Path(up.cwd).is_dir():
                out.append(f"{source}: upstreams.{name}.cwd: folder {up.cwd} does not exist")
    if config.audit.path:
        out.extend(_writable(Path(config.audit.path), f"{source}: audit.path"))
    out.extend(_writable(Path(config.store.path), f"{source}: store.path"))
    if raw is not None:
        out.extend(f"{source}: {where}: {problem}" for where, problem in _secret_problems(raw))
    if check_port:
        problem = port_problem(config.listen.host, config.listen.port)
        if problem:
            out.append(f"{source}: listen: {problem}")
    return out


def command_problem(command: str) -> str | None:
    """Why `command` cannot be started, resolved as the stdio connector does (our PATH)."""
    if os.sep in command or (os.altsep and os.altsep in command):
        path = Path(command)
        if not path.exists():
            return f"{command!r} does not exist"
        if path.is_dir() or not os.access(path, os.X_OK):
            return f"{command!r} is not an executable file"
        return None
    if shutil.which(command) is None:
        return f"command {command!r} is not found on PATH"
    return None


def _policy_problem(policy: str, source: str) -> list[str]:
    path = Path(policy)
    if not path.is_file():
        return [f"{source}: policy: policy file {policy} does not exist"]
    try:
        from mcpwarden.policy.model import load_policy

        load_policy(path)
    except OSError as exc:
        return [f"{source}: policy: cannot read {policy}: {exc.strerror or exc}"]
    except Exception as exc:  # yaml or validation errors: their first line says what
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [f"{source}: policy: {policy} is not a valid policy: {first}"]
    return []


def _writable(path: Path, where: str) -> list[str]:
    """The file, or the nearest folder that exists above it, must be writable."""
    if path.exists():
        return [] if os.access(path, os.W_OK) else [f"{where}: {path} is not writable"]
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        return [f"{where}: cannot create {path}: {parent} is not a writable folder"]
    return []


def _secret_problems(raw: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """`env:NAME` and `file:PATH` secret references that would not resolve at start."""
    if isinstance(raw, dict):
        for key, value in raw.items():
            yield from _secret_problems(value, f"{path}.{key}" if path else str(key))
    elif isinstance(raw, list):
        for i, value in enumerate(raw):
            yield from _secret_problems(value, f"{path}[{i}]")
    elif isinstance(raw, str) and path.startswith(("auth", "upstreams")):
        scheme, _, rest = raw.partition(":")
        if scheme == "file" and rest and not Path(rest).expanduser().is_file():
            yield path, f"secret file {rest} does not exist"
        elif scheme == "env" and rest.isidentifier() and rest not in os.environ:
            yield path, f"environment variable {rest} is not set"


def read_raw(path: str) -> object:
    """The config file as YAML data (for checks that need the keys as written)."""
    import yaml

    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def port_problem(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on, as one sentence, or None when it can.

    Checked before anything else opens (the audit file's lock would otherwise be the first
    thing to fail, with a message about the audit instead of the port). A second gateway on
    the port is recognised by its /healthz answer.
    """
    import errno
    import socket

    if port == 0:
        return None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            return None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                pass
            elif exc.errno == errno.EADDRNOTAVAIL:
                return f"cannot listen on {host}:{port}: {host} is not an address of this machine"
            elif exc.errno == errno.EACCES:
                return f"cannot listen on {host}:{port}: permission denied (ports below 1024 need privileges)"
            else:
                return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    shown = f"[{host}]" if ":" in host else host
    if _is_mcpwarden(f"http://{shown}:{port}/healthz"):
        return f"a gateway already runs on {shown}:{port} (stop it first, or pass --port)"
    return f"port {port} on {shown} is in use by another program; pick another with --port"


def _is_mcpwarden(url: str) -> bool:
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2.0) as resp:
            body = json.loads(resp.read(4096))
    except (OSError, ValueError):
        return False
    return isinstance(body, dict) and body.get("status") == "ok" and "sessions" in body
