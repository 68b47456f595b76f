"""Fixtures for auth unit tests; the helpers live in auth_testkit.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The helpers module sits next to this file; make it importable however pytest imports us.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from auth_testkit import FakeIssuer


@pytest.fixture
def idp() -> FakeIssuer:
    return FakeIssuer()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
