"""Fixtures for the tool-integrity tests: a fresh SQLite pin store per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mcpwarden.store import SQLiteStore


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "pins.sqlite3"


@pytest.fixture
def store(store_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(store_path)
    yield s
    s.close()
