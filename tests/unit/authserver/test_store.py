"""The record store's single-use operations, on SQLite and on PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from mcpwarden.authserver.store import OAuthStore, SQLiteOAuthStore

PG_URL = "postgresql://127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OAuthStore]:
    if request.param == "sqlite":
        sqlite = SQLiteOAuthStore(tmp_path / "s.sqlite3")
        yield sqlite
        sqlite.close()
        return
    from mcpwarden.authserver.store_pg import PostgresOAuthStore
    from mcpwarden.store.postgres import PostgresPool, apply_migrations

    schema = f"oauth_test_{secrets.token_hex(4)}"
    apply_migrations(PG_URL, schema)
    pool = PostgresPool(PG_URL, schema)
    try:
        yield PostgresOAuthStore(pool)
    finally:
        pool.close()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_a_code_is_consumed_once(store: OAuthStore) -> None:
    store.put("code", "k", {"x": 1}, user_id="alice", client_id="c", ttl=60)
    first = store.consume("code", "k")
    assert first is not None and first.data == {"x": 1}
    assert store.consume("code", "k") is None


def test_an_expired_record_cannot_be_consumed(store: OAuthStore) -> None:
    store.put("code", "k", {}, ttl=-1)
    assert store.consume("code", "k") is None and store.active("code", "k") is None


def test_purge_drops_long_expired_codes_and_keeps_consents(store: OAuthStore) -> None:
    store.put("code", "old", {}, ttl=-7200)
    store.put("code", "live", {}, ttl=60)
    store.put("consent", "kept", {}, ttl=-7200)
    assert store.purge_expired(older_than=3600) == 1
    assert store.get("code", "old") is None and store.get("code", "live") is not None
    assert store.get("consent", "kept") is not None


def test_revoke_where_ends_a_whole_group_and_nothing_else(store: OAuthStore) -> None:
    store.put("refresh", "a", {}, grp="family-1")
    store.put("refresh", "b", {}, grp="family-1")
    store.put("refresh", "c", {}, grp="family-2")
    assert store.revoke_where("refresh", grp="family-1") == 2
    assert [r.key for r in store.list("refresh")] == ["c"]


@pytest.fixture()
def two_replicas() -> Iterator[tuple[OAuthStore, OAuthStore]]:
    """Two stores on one PostgreSQL schema through their own pools: what two replicas hold."""
    from mcpwarden.authserver.store_pg import PostgresOAuthStore
    from mcpwarden.store.postgres import PostgresPool, apply_migrations

    schema = f"oauth_test_{secrets.token_hex(4)}"
    apply_migrations(PG_URL, schema)
    pools = [PostgresPool(PG_URL, schema), PostgresPool(PG_URL, schema)]
    try:
        yield PostgresOAuthStore(pools[0]), PostgresOAuthStore(pools[1])
    finally:
        for pool in pools:
            pool.close()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_a_refresh_token_issued_on_one_replica_is_redeemed_once_across_both(
    two_replicas: tuple[OAuthStore, OAuthStore],
) -> None:
    a, b = two_replicas
    a.put("refresh", "r1", {"scope": "tools"}, user_id="alice", client_id="c", grp="family-1", ttl=600)
    redeemed = b.consume("refresh", "r1")
    assert redeemed is not None and redeemed.user_id == "alice"
    assert a.consume("refresh", "r1") is None


def test_a_consent_revoked_on_one_replica_is_gone_on_the_other(
    two_replicas: tuple[OAuthStore, OAuthStore],
) -> None:
    a, b = two_replicas
    a.put("consent", "alice|c|https://app.example/cb", {"scopes": ["tools"]}, user_id="alice", client_id="c")
    assert b.active("consent", "alice|c|https://app.example/cb") is not None
    assert b.revoke_where("consent", user_id="alice") == 1
    assert a.active("consent", "alice|c|https://app.example/cb") is None
