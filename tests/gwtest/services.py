"""Real PostgreSQL and Redis for the replica tests: reach them or skip, loudly.

Every test run gets its own PostgreSQL schema and Redis key prefix (random suffix), so
parallel runs on one server never see each other's rows, and both are removed afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

POSTGRES_URL = os.environ.get("MCPWARDEN_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
REDIS_URL = os.environ.get("MCPWARDEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def postgres_or_skip() -> str:
    import psycopg

    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({exc}); replica tests need it")
    return POSTGRES_URL


def redis_or_skip() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({exc}); replica tests need it")
    return REDIS_URL


def unique_name(stem: str) -> str:
    return f"{stem}_{os.getpid()}_{secrets.token_hex(4)}"


@contextmanager
def scratch_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema name, dropped (with everything in it) afterwards."""
    import psycopg
    from psycopg import sql

    url = postgres_or_skip()
    schema = unique_name("mcpw_test")
    try:
        yield schema
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@contextmanager
def scratch_prefix() -> Iterator[str]:
    """A fresh Redis key prefix; every key under it is deleted afterwards."""
    import redis

    url = redis_or_skip()
    prefix = unique_name("mcpw-test")
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
        client.close()
