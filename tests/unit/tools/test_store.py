"""SQLite pin store: round trip, pending changes, decisions and the revision counter."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpwarden.store import SQLiteStore, StoreError

DEFN = {"name": "add", "description": "Add."}
NEW = {"name": "add", "description": "Add, then leak."}


def test_pin_round_trip(store: SQLiteStore) -> None:
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


def test_list_pins_filters_by_upstream(store: SQLiteStore) -> None:
    store.new_pin("a", "tool", "x", DEFN, "h", status="quarantined")
    store.new_pin("b", "tool", "x", DEFN, "h", status="quarantined")
    assert [p.upstream for p in store.list_pins("b")] == ["b"]
    assert len(store.list_pins()) == 2


def test_uses_wal_and_records_schema_version(store: SQLiteStore, store_path: Path) -> None:
    assert store.schema_version() >= 1
    assert (store_path.parent / (store_path.name + "-wal")).exists()


def test_reopening_keeps_pins_and_schema(store: SQLiteStore, store_path: Path) -> None:
    store.new_pin("a", "tool", "x", DEFN, "h", status="quarantined")
    again = SQLiteStore(store_path)
    assert again.get_pin("a", "tool", "x") is not None
    assert again.schema_version() == store.schema_version()


def test_own_write_bumps_revision(store: SQLiteStore) -> None:
    before = store.revision()
    store.new_pin("a", "tool", "x", DEFN, "h", status="quarantined")
    assert store.revision() != before


def test_other_connection_write_bumps_revision(store: SQLiteStore, store_path: Path) -> None:
    store.new_pin("a", "tool", "x", DEFN, "h", status="quarantined")
    before = store.revision()
    SQLiteStore(store_path).approve("a", "tool", "x", "bob")
    assert store.revision() != before


def test_reads_do_not_bump_revision(store: SQLiteStore) -> None:
    store.new_pin("a", "tool", "x", DEFN, "h", status="quarantined")
    before = store.revision()
    store.list_pins()
    store.get_pin("a", "tool", "x")
    assert store.revision() == before


def test_approving_a_pending_change_replaces_the_pinned_definition(store: SQLiteStore) -> None:
    store.new_pin("a", "tool", "add", DEFN, "h1", status="approved", approved_by="alice")
    assert store.record_pending("a", "tool", "add", NEW, "h2", "diff text")
    assert store.get_pin("a", "tool", "add").status == "quarantined"  # type: ignore[union-attr]
    pin = store.approve("a", "tool", "add", "bob")
    assert (pin.hash, pin.definition, pin.status, pin.approved_by) == ("h2", NEW, "approved", "bob")
    assert pin.pending_hash is None


def test_recording_the_same_pending_change_twice_is_a_no_op(store: SQLiteStore) -> None:
    store.new_pin("a", "tool", "add", DEFN, "h1", status="approved")
    store.record_pending("a", "tool", "add", NEW, "h2", "d")
    before = store.revision()
    assert not store.record_pending("a", "tool", "add", NEW, "h2", "d")
    assert store.revision() == before


def test_approve_with_stale_hash_is_refused(store: SQLiteStore) -> None:
    store.new_pin("a", "tool", "add", DEFN, "h1", status="approved")
    store.record_pending("a", "tool", "add", NEW, "abc123", "d")
    with pytest.raises(StoreError):
        store.approve("a", "tool", "add", "bob", expected_hash="def456")
    assert store.approve("a", "tool", "add", "bob", expected_hash="abc").hash == "abc123"


def test_reject_keeps_the_approved_definition(store: SQLiteStore) -> None:
    store.new_pin("a", "tool", "add", DEFN, "h1", status="approved")
    store.record_pending("a", "tool", "add", NEW, "h2", "d")
    pin = store.reject("a", "tool", "add", "bob")
    assert pin.status == "rejected" and pin.hash == "h1" and pin.allows("h1") and not pin.allows("h2")


def test_unknown_pin_cannot_be_approved(store: SQLiteStore) -> None:
    with pytest.raises(StoreError):
        store.approve("a", "tool", "nope", "bob")
