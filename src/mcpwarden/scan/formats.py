"""Reading each client's config format into `ServerEntry` objects.

The JSON clients all describe a server with the same handful of fields (`command`,
`args`, `env`, `url`, `headers`, `type`) under different section names, so one entry
reader serves them; the section layout is what differs per format. Structural errors
are reported with the file and line, because a config the scanner cannot read is a
config it cannot vouch for (exit code 2).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import re2

from mcpwarden.scan.jsonc import JsonDocument, JsonPath, JsonSyntaxError, parse
from mcpwarden.scan.locations import ConfigLocation, Format, classify
from mcpwarden.scan.model import ConfigError, ServerEntry, Transport

MAX_CONFIG_BYTES = 64 * 1024 * 1024

_TRANSPORTS: dict[str, Transport] = {
    "stdio": "stdio",
    "local": "stdio",
    "http": "http",
    "streamable-http": "http",
    "streamable_http": "http",
    "streamablehttp": "http",
    "sse": "sse",
}
_TOML_LINE = re2.compile(r"line (\d+)")
_TOML_KEY = re2.compile(r'^\s*([A-Za-z0-9_-]+|"[^"]*")\s*=')


def read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(path, f"file is larger than {MAX_CONFIG_BYTES} bytes")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, "no such file") from None
    except IsADirectoryError:
        raise ConfigError(path, "is a directory, not a config file") from None
    except OSError as exc:
        raise ConfigError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(path, "not valid UTF-8", line) from None


def _parse_json(path: Path, text: str, jsonc: bool) -> JsonDocument:
    try:
        return parse(text, comments=jsonc, trailing_commas=jsonc)
    except JsonSyntaxError as exc:
        raise ConfigError(path, f"invalid JSON: {exc.reason} at column {exc.column}", exc.line) from None


def _str_map(value: Any, path: Path, what: str, line: int | None) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(path, f"{what} must be an object", line)
    out: dict[str, str] = {}
    for k, v in value.items():
        if isinstance(v, (dict, list)):
            raise ConfigError(path, f"{what}.{k} must be a string", line)
        out[str(k)] = "" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))
    return out


def _transport(
    raw: Mapping[str, Any], path: Path, name: str, line: int | None, url_field: str | None
) -> Transport:
    declared = raw.get("type", raw.get("transport"))
    if declared is not None:
        key = str(declared).strip().lower().replace(" ", "")
        if key not in _TRANSPORTS:
            raise ConfigError(path, f"server {name!r} has unknown transport type {declared!r}", line)
        return _TRANSPORTS[key]
    if raw.get("command") is not None:
        return "stdio"
    if url_field == "httpUrl" or url_field == "serverUrl":
        return "http"
    url = str(raw.get(url_field or "url", ""))
    if url_field == "url" and (url.rstrip("/").endswith("/sse")):
        return "sse"
    return "http"


def _field_lines(
    raw: Mapping[str, Any], doc_path: JsonPath, line_of: Mapping[JsonPath, int]
) -> dict[str, int]:
    """Lines of the entry's own fields (two levels: `args.0`, `env.KEY`), by dotted name."""
    out: dict[str, int] = {}
    for key, value in raw.items():
        ln = line_of.get((*doc_path, key))
        if ln is not None:
            out[key] = ln
        children: list[str | int] = []
        if isinstance(value, Mapping):
            children = list(value.keys())
        elif isinstance(value, list):
            children = list(range(len(value)))
        for child in children:
            ln = line_of.get((*doc_path, key, child))
            if ln is not None:
                out[f"{key}.{child}"] = ln
    return out


def entry_from_mapping(
    raw: Any,
    *,
    client: str,
    path: Path,
    name: str,
    doc_path: JsonPath,
    line_of: Mapping[JsonPath, int],
    scope: str | None = None,
) -> ServerEntry:
    """Read one server object shared by all JSON client formats."""
    line = line_of.get(doc_path)
    if not isinstance(raw, Mapping):
        raise ConfigError(path, f"server {name!r} must be an object", line)
    field_lines = _field_lines(raw, doc_path, line_of)

    command = raw.get("command")
    if command is not None and not isinstance(command, str):
        raise ConfigError(
            path, f"server {name!r}: command must be a string", field_lines.get("command", line)
        )
    args_raw = raw.get("args", [])
    if args_raw is None:
        args_raw = []
    if not isinstance(args_raw, list) or not all(isinstance(a, (str, int, float)) for a in args_raw):
        raise ConfigError(
            path, f"server {name!r}: args must be a list of strings", field_lines.get("args", line)
        )
    url_field = next((f for f in ("url", "httpUrl", "serverUrl") if raw.get(f) is not None), None)
    url = raw.get(url_field) if url_field else None
    if url is not None and not isinstance(url, str):
        raise ConfigError(
            path, f"server {name!r}: {url_field} must be a string", field_lines.get(url_field or "", line)
        )
    if not command and not url:
        raise ConfigError(path, f"server {name!r} has neither a command nor a url", line)
    if url_field and url_field != "url":
        field_lines.setdefault("url", field_lines.get(url_field, line or 0))
    cwd = raw.get("cwd")
    return ServerEntry(
        client=client,
        file=path,
        name=name,
        transport=_transport(raw, path, name, line, url_field),
        command=command or None,
        args=tuple(str(a) for a in args_raw),
        env=_str_map(raw.get("env"), path, f"server {name!r}: env", field_lines.get("env", line)),
        url=url,
        headers=_str_map(
            raw.get("headers"), path, f"server {name!r}: headers", field_lines.get("headers", line)
        ),
        line=line,
        scope=scope,
        cwd=str(cwd) if isinstance(cwd, str) else None,
        enabled=raw.get("disabled") is not True and raw.get("enabled") is not False,
        field_lines=field_lines,
    )


def _servers_in(
    section: Any, doc: JsonDocument, section_path: JsonPath, loc: ConfigLocation, scope: str | None = None
) -> list[ServerEntry]:
    if section is None:
        return []
    if not isinstance(section, Mapping):
        raise ConfigError(
            loc.path, f"{'.'.join(map(str, section_path))} must be an object", doc.line_of(section_path)
        )
    return [
        entry_from_mapping(
            raw,
            client=loc.client,
            path=loc.path,
            name=str(name),
            doc_path=(*section_path, name),
            line_of=doc.key_lines,
            scope=scope,
        )
        for name, raw in section.items()
    ]


def _root_object(doc: JsonDocument, path: Path) -> Mapping[str, Any]:
    if not isinstance(doc.value, Mapping):
        raise ConfigError(path, "top level must be a JSON object", 1)
    return doc.value


def _load_json_format(loc: ConfigLocation, text: str) -> list[ServerEntry]:
    jsonc = loc.format in ("vscode-settings", "vscode-mcp")
    doc = _parse_json(loc.path, text, jsonc)
    root = _root_object(doc, loc.path)
    if loc.format == "mcpServers":
        return _servers_in(root.get("mcpServers"), doc, ("mcpServers",), loc)
    if loc.format == "vscode-mcp":
        return _servers_in(root.get("servers"), doc, ("servers",), loc)
    if loc.format == "vscode-settings":
        if "mcp.servers" in root:
            return _servers_in(root["mcp.servers"], doc, ("mcp.servers",), loc)
        mcp = root.get("mcp")
        if mcp is None:
            return []
        if not isinstance(mcp, Mapping):
            raise ConfigError(loc.path, "mcp must be an object", doc.line_of(("mcp",)))
        return _servers_in(mcp.get("servers"), doc, ("mcp", "servers"), loc)
    # claude-user: user-scoped servers plus one section per project.
    entries = _servers_in(root.get("mcpServers"), doc, ("mcpServers",), loc)
    projects = root.get("projects")
    if projects is None:
        return entries
    if not isinstance(projects, Mapping):
        raise ConfigError(loc.path, "projects must be an object", doc.line_of(("projects",)))
    for project, settings in projects.items():
        if isinstance(settings, Mapping):
            entries += _servers_in(
                settings.get("mcpServers"), doc, ("projects", project, "mcpServers"), loc, scope=str(project)
            )
    return entries


def _toml_key_lines(text: str) -> dict[JsonPath, int]:
    """Line of each table header and key under `mcp_servers`, found without a TOML AST.

    `tomllib` does not report positions, so table headers are re-parsed one line at a
    time (which gets quoting and dotted keys right) and plain `key =` lines are
    attributed to the table above them.
    """
    lines: dict[JsonPath, int] = {}
    table: JsonPath = ()
    for number, raw_line in enumerate(text.splitlines(), start=1):
        stripped = raw_line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            try:
                header = tomllib.loads(stripped.split("#", 1)[0].strip() + "\n")
            except tomllib.TOMLDecodeError:
                continue
            path: list[str] = []
            node: Any = header
            while isinstance(node, dict) and len(node) == 1:
                key = next(iter(node))
                path.append(key)
                node = node[key]
            table = tuple(path)
            lines.setdefault(table, number)
            continue
        m = _TOML_KEY.match(raw_line)
        if m is not None:
            key = m.group(1).strip('"')
            lines.setdefault((*table, key), number)
    return lines


def _load_codex(loc: ConfigLocation, text: str) -> list[ServerEntry]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_LINE.search(str(exc))
        line = (
            int(m.group(1)) if m else (len(text.splitlines()) or 1) if "end of document" in str(exc) else None
        )
        raise ConfigError(loc.path, f"invalid TOML: {exc}", line) from None
    key_lines = _toml_key_lines(text)
    section = data.get("mcp_servers")
    if section is None:
        return []
    if not isinstance(section, dict):
        raise ConfigError(loc.path, "mcp_servers must be a table", key_lines.get(("mcp_servers",)))
    entries: list[ServerEntry] = []
    for name, raw in section.items():
        if isinstance(raw, dict):
            raw = dict(raw)
            if "http_headers" in raw and "headers" not in raw:
                raw["headers"] = raw.pop("http_headers")
                for (*prefix, last), ln in list(key_lines.items()):
                    if tuple(prefix) == ("mcp_servers", name, "http_headers"):
                        key_lines[("mcp_servers", name, "headers", last)] = ln
        if ("mcp_servers", name) not in key_lines and ("mcp_servers",) in key_lines:
            key_lines[("mcp_servers", name)] = key_lines[("mcp_servers",)]
        entries.append(
            entry_from_mapping(
                raw,
                client=loc.client,
                path=loc.path,
                name=str(name),
                doc_path=("mcp_servers", name),
                line_of=key_lines,
            )
        )
    return entries


def _guess_json_format(path: Path, text: str) -> ConfigLocation:
    doc = _parse_json(path, text, jsonc=True)
    root = _root_object(doc, path)
    if "projects" in root and "mcpServers" in root:
        return ConfigLocation("claude-code", path, "claude-user", "explicit")
    if "mcpServers" in root:
        return ConfigLocation("unknown", path, "mcpServers", "explicit")
    if "servers" in root:
        return ConfigLocation("vscode", path, "vscode-mcp", "explicit")
    if "mcp" in root or "mcp.servers" in root:
        return ConfigLocation("vscode", path, "vscode-settings", "explicit")
    raise ConfigError(
        path, "no MCP server section found (mcpServers, servers, mcp.servers or mcp_servers)", 1
    )


def load_location(loc: ConfigLocation) -> list[ServerEntry]:
    text = read_text(loc.path)
    if loc.format == "codex-toml":
        return _load_codex(loc, text)
    return _load_json_format(loc, text)


def locate(path: Path) -> ConfigLocation:
    """The location record for a file named on the command line."""
    known = classify(path)
    if known is not None:
        return known
    return _guess_json_format(path, read_text(path))


def load_path(path: Path) -> list[ServerEntry]:
    return load_location(locate(path))


__all__ = ["Format", "entry_from_mapping", "load_location", "load_path", "locate", "read_text"]
