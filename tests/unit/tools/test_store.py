"""The pin store contract: round trip, pending changes, decisions and the revision counter.

Every test that is not about SQLite itself runs against both backends: the embedded
SQLite file and PostgreSQL (a scratch schema on the real server; skipped, with the reason,
where none is reachable).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gwtest.services import scratch_schema
from mcpwarden.store import SQLiteStore, Store, StoreError

Opener = Callable[[], Store]


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, store_path: Path) -> Iterator[Opener]:
    """Opens another connection to one store, as a second process (CLI, replica) would."""
    opened: list[Store] = []
    if request.param == "sqlite":

        def opener() -> Store:
            opened.append(SQLiteStore(store_path))
            return opened[-1]

        yield opener
    else:
        from gwtest.services import postgres_or_skip
        from mcpwarden.store.postgres import PostgresPool, PostgresStore, apply_migrations

        url = postgres_or_skip()
        with scratch_schema() as schema:
            apply_migrations(url, schema)
            pools: list[PostgresPool] = []

            def opener() -> Store:
                pools.append(PostgresPool(url, schema))
                opened.append(PostgresStore(pools[-1]))
                return opened[-1]

            yield opener
            for pool in pools:
                pool.close()
    for s in opened:
        s.close()


@pytest.fixture
def store(open_store: Opener) -> Store:
    return open_store()


DEFN = {"name": "add", "description": "Add."}
NEW = {"name": "add", "description": "Add, then leak."}


def test_pin_round_trip(store: Store) -> None:
    store.new_pin("calc", "tool", "add", DEFN, "h1", status="approved", approved_by="alice")
    (pin,) = store.list_pins("calc")
    assert (pin.upstream, pin.kind, pin.name, pin.hash, pin.status) == (
        "calc",
        "tool",
        "add",
        "h1",
        "approved",
    )
    assert pin.definition == DEFN and pin.approved_by == "alice" and pin.approved_at and pin.first_seen


def test_list_pins_filters_by_upstream(store: Store) -> None:
    store.new_pin("a", "tool", "x", DEFN, "h", status="quarantined")
    store.new_pin("b", "tool", "x", DEFN, "h", status="quarantined")
    assert [p.upstream for p in store.list_pins("b")] == ["b"]
    assert len(store.list_pins()) == 2


def test_sqlite_uses_wal_and_records_schema_version(store_path: Path) -> None:
    store = SQLiteStore(store_path)
    assert store.schema_version() >= 1
    assert (store_path.parent / (store_path.name + "-wal")).exists()


def test_reopening_keeps_pins_and_schema(store: Store, open_store: Opener) -> None:
    store.new_pin("a", "tool", "x", DEFN, "h", status="quarantined")
    again = open_store()
    assert again.get_pin("a", "tool", "x") is not None
    assert again.schema_version() == store.schema_version() >= 1  # type: ignore[attr-defined]


def test_own_write_bumps_revision(store: Store) -> None:
    before = store.revision()
    store.new_pin("a", "tool", "x", DEFN, "h", status="quarantined")
    assert store.revision() != before


def test_other_connection_write_bumps_revision(store: Store, open_store: Opener) -> None:
    store.new_pin("a", "tool", "x", DEFN, "h", status="quarantined")
    before = store.revision()
    open_store().approve("a", "tool", "x", "bob")
    assert store.revision() != before


def test_reads_do_not_bump_revision(store: Store) -> None:
    store.new_pin("a", "tool", "x", DEFN, "h", status="quarantined")
    before = store.revision()
    store.list_pins()
    store.get_pin("a", "tool", "x")
    assert store.revision() == before


def test_approving_a_pending_change_replaces_the_pinned_definition(store: Store) -> None:
    store.new_pin("a", "tool", "add", DEFN, "h1", status="approved", approved_by="alice")
    assert store.record_pending("a", "tool", "add", NEW, "h2", "diff text")
    assert store.get_pin("a", "tool", "add").status == "quarantined"  # type: ignore[union-attr]
    pin = store.approve("a", "tool", "add", "bob")
    assert (pin.hash, pin.definition, pin.status, pin.approved_by) == ("h2", NEW, "approved", "bob")
    assert pin.pending_hash is None


def test_recording_the_same_pending_change_twice_is_a_no_op(store: Store) -> None:
    store.new_pin("a", "tool", "add", DEFN, "h1", status="approved")
    store.record_pending("a", "tool", "add", NEW, "h2", "d")
    before = store.revision()
    assert not store.record_pending("a", "tool", "add", NEW, "h2", "d")
    assert store.revision() == before


def test_approve_with_stale_hash_is_refused(store: Store) -> None:
    store.new_pin("a", "tool", "add", DEFN, "h1", status="approved")
    store.record_pending("a", "tool", "add", NEW, "abc123", "d")
    with pytest.raises(StoreError):
        store.approve("a", "tool", "add", "bob", expected_hash="def456")
    assert store.approve("a", "tool", "add", "bob", expected_hash="abc").hash == "abc123"


def test_reject_keeps_the_approved_definition(store: Store) -> None:
    store.new_pin("a", "tool", "add", DEFN, "h1", status="approved")
    store.record_pending("a", "tool", "add", NEW, "h2", "d")
    pin = store.reject("a", "tool", "add", "bob")
    assert pin.status == "rejected" and pin.hash == "h1" and pin.allows("h1") and not pin.allows("h2")


def test_unknown_pin_cannot_be_approved(store: Store) -> None:
    with pytest.raises(StoreError):
        store.approve("a", "tool", "nope", "bob")


def test_two_writers_seeing_a_new_definition_keep_the_first_row(store: Store, open_store: Opener) -> None:
    first = store.new_pin("a", "tool", "x", DEFN, "h1", status="quarantined")
    second = open_store().new_pin("a", "tool", "x", NEW, "h2", status="approved", approved_by="eve")
    assert (second.hash, second.status, second.definition) == (first.hash, "quarantined", DEFN)


def test_put_pin_replaces_the_whole_row(store: Store) -> None:
    store.new_pin("a", "tool", "x", DEFN, "h1", status="quarantined")
    pin = store.approve("a", "tool", "x", "bob")
    from dataclasses import replace

    store.put_pin(replace(pin, hash="h9", definition=NEW, status="rejected"))
    got = store.get_pin("a", "tool", "x")
    assert got is not None and (got.hash, got.definition, got.status) == ("h9", NEW, "rejected")


def test_delete_pin_reports_whether_a_row_went(store: Store) -> None:
    store.new_pin("a", "tool", "x", DEFN, "h1", status="quarantined")
    assert store.delete_pin("a", "tool", "x")
    assert not store.delete_pin("a", "tool", "x")
    assert store.get_pin("a", "tool", "x") is None
