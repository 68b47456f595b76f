"""The demo's note store keeps every file access inside its sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpwarden.demo.notes import SEED_NOTES, NoteError, NoteStore, slugify


@pytest.fixture
def store(tmp_path: Path) -> NoteStore:
    notes = NoteStore(tmp_path / "notes")
    notes.seed()
    return notes


def test_seed_writes_samples_into_an_empty_sandbox(store: NoteStore) -> None:
    assert sorted(note.path for note in store.entries()) == sorted(SEED_NOTES)


def test_seed_leaves_an_existing_sandbox_alone(tmp_path: Path) -> None:
    root = tmp_path / "notes"
    root.mkdir()
    (root / "mine.md").write_text("# Mine\n", encoding="utf-8")
    store = NoteStore(root)
    store.seed()
    assert [note.path for note in store.entries()] == ["mine"]


def test_parent_directory_escape_is_refused(store: NoteStore) -> None:
    with pytest.raises(NoteError, match="outside"):
        store.read("../../etc/passwd")


def test_absolute_path_is_refused(store: NoteStore, tmp_path: Path) -> None:
    (tmp_path / "elsewhere.md").write_text("secret", encoding="utf-8")
    with pytest.raises(NoteError, match="outside"):
        store.read(str(tmp_path / "elsewhere.md"))


def test_symlink_pointing_out_of_the_sandbox_is_refused(store: NoteStore, tmp_path: Path) -> None:
    (tmp_path / "secret.md").write_text("secret", encoding="utf-8")
    (store.root / "link.md").symlink_to(tmp_path / "secret.md")
    with pytest.raises(NoteError, match="outside"):
        store.read("link")


def test_symlink_out_of_the_sandbox_is_not_listed(store: NoteStore, tmp_path: Path) -> None:
    (tmp_path / "secret.md").write_text("# Secret\n", encoding="utf-8")
    (store.root / "link.md").symlink_to(tmp_path / "secret.md")
    assert "link" not in {note.path for note in store.entries()}


def test_notes_in_subdirectories_are_readable(store: NoteStore) -> None:
    (store.root / "team").mkdir()
    (store.root / "team" / "plan.md").write_text("# Plan\n", encoding="utf-8")
    assert store.read("team/plan") == "# Plan\n"


def test_adding_a_note_with_a_taken_title_never_overwrites(store: NoteStore) -> None:
    first = store.add("Welcome", "other text")
    assert first == "welcome-2"
    assert store.read("welcome").startswith("# Welcome\n\nThis is the mcpwarden demo")


def test_oversized_note_is_refused(store: NoteStore) -> None:
    with pytest.raises(NoteError, match="larger"):
        store.add("Big", "x" * 70_000)


def test_search_is_case_insensitive_and_respects_limit(store: NoteStore) -> None:
    hits = store.search("THE", limit=2)
    assert len(hits) == 2


def test_slug_drops_punctuation_and_non_ascii() -> None:
    assert slugify("  Q3 plan: Zürich / Berlin!! ") == "q3-plan-z-rich-berlin"


def test_slug_of_only_punctuation_falls_back_to_note() -> None:
    assert slugify("?!") == "note"
