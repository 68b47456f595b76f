"""What `serve` would fail on, found before it starts: shared by `config check` and `serve`.

A config can be valid by its schema and still not run: a policy file that is not there, a
stdio command that is not installed, a secret reference to a missing file or an unset
variable, a state folder that cannot be written, a port already taken. `serve` used to find
these one by one, mid-start, as tracebacks; here each is one sentence naming the file and the
key path as written in it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from mcpwarden.types import FileUse

if TYPE_CHECKING:
    from pydantic import BaseModel
    from pydantic.fields import FieldInfo

    from mcpwarden.config import GatewayConfig


def problems(config: GatewayConfig, source: str, *, raw: Any = None, check_port: bool = True) -> list[str]:
    """Every problem found, one sentence each (empty when serve can start).

    Every file, folder, command and secret the config names is found by walking the model for
    fields marked with `FileUse` (see mcpwarden.types); `raw` (the file as written) tells a
    value the user wrote from a default, which the sentence then says.
    """
    out: list[str] = []
    if not config.upstreams:
        out.append(
            f"{source}: upstreams: no upstream is configured, so the gateway would serve nothing; "
            "add one under `upstreams:` (see docs/configuration.md)"
        )
    for where, use, value in file_fields(config):
        problem = file_problem(use, value)
        if problem:
            shown = where if raw is None or _written(raw, where) else f"{where} (default)"
            out.append(f"{source}: {shown}: {problem}")
    if check_port:
        problem = port_problem(config.listen.host, config.listen.port)
        if problem:
            out.append(f"{source}: listen: {problem}")
    problem = small_model_problem(config)
    if problem:
        out.append(f"{source}: {problem}")
    return out


def small_model_problem(config: GatewayConfig) -> str | None:
    """Why the small-model tier an upstream's `content.small_model` asks for cannot load, if it
    cannot: the gateway must not start without a tier its config asks for (fail closed)."""
    from mcpwarden.guards.content_policy import ContentPolicy

    asking = [
        name
        for name, up in config.upstreams.items()
        if isinstance(up.content, ContentPolicy)
        and (up.content.small_model or any(o.get("small_model") for o in up.content.tools.values()))
    ]
    if not asking:
        return None
    from mcpwarden.detect.text.minilm import SmallModelError, default_small_model

    try:
        default_small_model()
    except SmallModelError as exc:
        return f"upstreams.{asking[0]}.content.small_model: {exc}"
    return None


def warnings(config: GatewayConfig, source: str, raw: Any) -> list[str]:
    """Settings that work but probably not as meant, one sentence each (serve starts anyway)."""
    out: list[str] = []
    capped = config.limits.max_concurrent_per_principal if config.limits else None
    in_flight = config.sessions.max_in_flight_per_principal
    if capped is not None and (_written(raw, "sessions.max_in_flight_per_principal") or capped >= in_flight):
        # Both count one principal's requests in flight; the session layer refuses first, before
        # the request is audited or admitted, so only the lower cap ever answers.
        lower = (
            "limits.max_concurrent_per_principal (-32003 concurrency.principal)"
            if capped < in_flight
            else "sessions.max_in_flight_per_principal (-32005 principal.too_many_in_flight)"
        )
        shown = "" if _written(raw, "sessions.max_in_flight_per_principal") else " (default)"
        out.append(
            f"{source}: limits.max_concurrent_per_principal: warning: {capped} and "
            f"sessions.max_in_flight_per_principal{shown} {in_flight} both cap one principal's requests "
            f"in flight, so only the lower one applies: {lower}; set just one of them "
            '(see docs/configuration.md, "Two per-principal caps")'
        )
    return out


def file_fields(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, FileUse, str]]:
    """(key path as written, how serve uses it, value) for every set field marked `FileUse`."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        where = f"{prefix}.{name}" if prefix else name
        use = file_use(name, info)
        if use is None:
            yield from _nested(value, where)
        elif isinstance(value, str) and (
            use.only_if is None or getattr(model, use.only_if[0]) == use.only_if[1]
        ):
            yield where, use, value


def _nested(value: Any, where: str) -> Iterator[tuple[str, FileUse, str]]:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        yield from file_fields(value, where)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nested(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _nested(item, f"{where}[{i}]")


def file_use(name: str, info: FieldInfo) -> FileUse | None:
    """The field's `FileUse` marker, also inside `X | None`; for models outside this module's
    reach without one, the project's conventions: a description that starts "Secret
    reference" is a secret, a name ending in `_file` a file read at start."""
    for item in info.metadata:
        if isinstance(item, FileUse):
            return item
    for arg in get_args(info.annotation):
        for item in getattr(arg, "__metadata__", ()):
            if isinstance(item, FileUse):
                return item
    if (info.description or "").startswith("Secret reference"):
        return FileUse("secret", "a non-empty secret")
    if name.endswith("_file"):
        return FileUse("read", "a readable file")
    return None


def file_problem(use: FileUse, value: str) -> str | None:
    """Why serve could not use `value` as `use` says, as the end of one sentence, or None."""
    if use.role == "command":
        return command_problem(value)
    if use.role == "write":
        return _writable(Path(value))
    if use.role == "folder":
        return None if Path(value).is_dir() else f"folder {value} does not exist; expected {use.expected}"
    if use.role == "secret":
        return _secret_problem(use, value)
    return _readable(use, Path(value).expanduser(), f"file {value}")


def _readable(use: FileUse, path: Path, shown: str) -> str | None:
    if not path.exists():
        return f"{shown} does not exist; expected {use.expected}"
    if not path.is_file():
        return f"{shown} is not a file; expected {use.expected}"
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        return f"cannot read {shown}: {exc.strerror or exc}"
    return _parsed(use, path, shown)


def _secret_problem(use: FileUse, ref: str) -> str | None:
    scheme, _, rest = ref.partition(":")
    if scheme == "env":
        if os.environ.get(rest) is None:
            return f"environment variable {rest} is not set; expected {use.expected} in it"
    elif scheme == "file":
        problem = _readable(FileUse("read", use.expected), Path(rest).expanduser(), f"secret file {rest}")
        if problem:
            return problem
    from mcpwarden.auth.secrets import SecretError, resolve_secret

    try:
        value = resolve_secret(ref)
    except SecretError as exc:
        return f"{exc}; expected {use.expected}"
    return _parsed(use, value, f"the secret in {ref}")


def _parsed(use: FileUse, subject: Path | str, shown: str) -> str | None:
    """Run the field's parser on a file path (read) or a secret's value (secret)."""
    if use.parse is None:
        return None
    import importlib

    module, _, function = use.parse.partition(":")
    try:
        getattr(importlib.import_module(module), function)(subject)
    except Exception as exc:  # a parser's own error: its first sentence says what is wrong
        text = str(exc).strip()
        first = text.splitlines()[0].split(". ")[0].rstrip(".") if text else type(exc).__name__
        return f"{shown} is not {use.expected}: {first}"
    return None


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


def _writable(path: Path) -> str | None:
    """The file, or the nearest folder that exists above it, must be writable."""
    if path.exists():
        return None if os.access(path, os.W_OK) else f"{path} is not writable"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot create {path}: {parent} is not a writable folder"
    return None


def _written(raw: Any, where: str) -> bool:
    """Whether the key path `a.b[0].c` is present in the file as written."""
    node = raw
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", where):
        if part.startswith("[") and isinstance(node, list):
            index = int(part[1:-1])
            if index >= len(node):
                return False
            node = node[index]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


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
