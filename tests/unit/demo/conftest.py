"""Shared setup for the demo server tests: an SDK client session to a demo server over stdio."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    path = tmp_path / "notes"
    path.mkdir()
    return path


@asynccontextmanager
async def demo_session(sandbox: Path, **callbacks: Any) -> AsyncIterator[ClientSession]:
    """An initialised SDK client session to `python -m mcpwarden.demo.server` over stdio."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcpwarden.demo.server", "--transport", "stdio", "--sandbox", str(sandbox)],
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write, **callbacks) as session:
        await session.initialize()
        yield session
