"""Suite-wide fixtures. Async tests use anyio's pytest plugin on asyncio."""

from pathlib import Path

import pytest

from legacy_sdk.venv import create_legacy_venv


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def legacy_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Python of a venv with the 1.x SDK and a 1.x server, made once per session (tests/legacy_sdk)."""
    return create_legacy_venv(tmp_path_factory.mktemp("mcp-v1") / "venv")
