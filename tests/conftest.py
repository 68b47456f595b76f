"""Suite-wide fixtures. Async tests use anyio's pytest plugin on asyncio."""

import pytest


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"
