"""Every config field that names a file, folder, command or secret is one `config check` walks to.

`config check` finds them by walking the config model for `FileUse` markers (and two
conventions for models it does not own); a new field named like a file but left unmarked
would silently go unchecked, so this test lists every such name in the whole model tree.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from mcpwarden.commands.preflight import file_fields, file_use
from mcpwarden.config import GatewayConfig, parse_config

# Field names that say "this is a path or a secret".
FILE_LIKE = re.compile(r"(^|_)(path|file|dir|folder|cwd|command|key|token|secret|cert|policy)$")


def _models(annotation: object) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models(arg)


def _fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> Iterator[tuple[str, FieldInfo]]:
    if model in seen:
        return
    seen.add(model)
    for name, info in model.model_fields.items():
        yield f"{model.__name__}.{name}", info
        for sub in _models(info.annotation):
            yield from _fields(sub, seen)


def _is_text(info: FieldInfo) -> bool:
    return info.annotation is str or set(typing.get_args(info.annotation)) <= {str, type(None)}


def test_every_file_like_text_field_in_the_config_model_is_checked() -> None:
    unchecked = [
        where
        for where, info in _fields(GatewayConfig, set())
        if FILE_LIKE.search(where.rsplit(".", 1)[1]) and _is_text(info) and file_use(where, info) is None
    ]
    assert unchecked == []


def test_the_walk_reports_key_paths_as_written() -> None:
    config = parse_config(
        {
            "policy": "p.yaml",
            "audit": {"path": None, "sinks": [{"type": "stdout"}, {"type": "syslog", "ca_file": "ca.pem"}]},
            "upstreams": {
                "web": {
                    "transport": "http",
                    "url": "https://x.example/mcp",
                    "credentials": {"mode": "bearer", "token": "env:T"},
                }
            },
        }
    )
    assert [(where, use.role) for where, use, _ in file_fields(config)] == [
        ("policy", "read"),
        ("audit.sinks[1].ca_file", "read"),
        ("store.path", "write"),
        ("upstreams.web.credentials.token", "secret"),
    ]


def test_the_sqlite_path_is_not_checked_for_the_postgres_backend() -> None:
    config = parse_config(
        {
            "store": {"backend": "postgres", "url": "postgresql://db/x", "redis_url": "redis://r/0"},
            "audit": {"path": None},
        }
    )
    assert list(file_fields(config)) == []
