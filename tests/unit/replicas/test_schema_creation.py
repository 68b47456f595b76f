"""Replicas that start together against a fresh PostgreSQL schema all come up.

`CREATE SCHEMA IF NOT EXISTS` run by two sessions at once can fail in one of them on the
catalog's unique index (seen in `make test`: one of two replicas died at start with
UniqueViolation on pg_namespace). `apply_migrations` serializes the creation per schema.
"""

from __future__ import annotations

import threading

from gwtest.services import postgres_or_skip, scratch_schema
from mcpwarden.store.postgres import apply_migrations

OPENERS = 8
ROUNDS = 3


def _migrate_at_once(url: str, schema: str) -> list[BaseException]:
    """Run `apply_migrations` from OPENERS threads released together; their failures."""
    start = threading.Barrier(OPENERS)
    errors: list[BaseException] = []

    def open_store() -> None:
        start.wait()
        try:
            apply_migrations(url, schema)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(OPENERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def test_replicas_migrating_one_fresh_schema_at_once_all_succeed() -> None:
    url = postgres_or_skip()
    for _ in range(ROUNDS):
        with scratch_schema() as schema:
            assert _migrate_at_once(url, schema) == []
