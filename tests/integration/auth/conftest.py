"""Auth integration tests run against a real OIDC provider (see tests/fixtures/oidc)."""

from __future__ import annotations

import pytest

from fixtures.oidc import fixture as oidc_fixture

# The real IdP fixture, shared by the auth suites.
oidc_provider = oidc_fixture.oidc_provider


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
