"""`store:` and `replica:` configuration: SQLite by default, PostgreSQL only with Redis."""

from __future__ import annotations

import pytest

from mcpwarden.config import ConfigError, parse_config


def test_sqlite_is_the_default() -> None:
    config = parse_config({})
    assert config.store.backend == "sqlite" and config.store.url is None


def test_postgres_needs_both_urls() -> None:
    with pytest.raises(ConfigError, match="needs both url"):
        parse_config({"store": {"backend": "postgres", "url": "postgresql://127.0.0.1/test"}})


def test_postgres_with_both_urls_is_accepted() -> None:
    config = parse_config(
        {"store": {"backend": "postgres", "url": "postgresql://h/db", "redis_url": "redis://h:6379/0"}}
    )
    assert config.store.schema_name == "mcpwarden" and config.store.redis_prefix == "mcpwarden"


def test_schema_name_must_be_a_plain_identifier() -> None:
    with pytest.raises(ConfigError):
        parse_config({"store": {"schema_name": "x; DROP TABLE pins"}})


def test_replica_id_defaults_to_host_and_pid() -> None:
    import os

    assert parse_config({}).replica.resolved_id().endswith(f"-{os.getpid()}")


def test_replica_id_is_restricted_to_safe_characters() -> None:
    with pytest.raises(ConfigError):
        parse_config({"replica": {"id": "a b"}})
