"""Auth integration tests run against a real OIDC provider (see tests/fixtures/oidc)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


def _load_oidc_fixture() -> object:
    name = "mcpwarden_test_oidc_fixture"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).resolve().parents[2] / "fixtures" / "oidc" / "fixture.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


oidc_provider = _load_oidc_fixture().oidc_provider  # type: ignore[attr-defined]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
