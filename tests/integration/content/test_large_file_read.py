"""A 650 KB file read through @modelcontextprotocol/server-filesystem passes the default cap.

server-filesystem answers `read_text_file` with the text both as `content` and as
`structuredContent`; the result cap counts the two once, so a file well under 1 MiB is
not refused for being sent twice. The default content policy stays on: the whole text is
scanned, redacted and spotlighted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp.types import TextContent

from gwtest.client import sdk_session
from gwtest.procs import ROOT, Gateway, gateway

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

NODE = Path("/usr/bin/node")
SCRIPT = ROOT / "node_modules" / "@modelcontextprotocol" / "server-filesystem" / "dist" / "index.js"
LINE = "Shipping times improved after the warehouse changed its packing schedule.\n"
SIZE = 650_000


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("fs")
    (base / "big.txt").write_text((LINE * (SIZE // len(LINE) + 1))[:SIZE])
    return base


@pytest.fixture(scope="module")
def gw(files: Path) -> Iterator[Gateway]:
    if not SCRIPT.exists():
        pytest.fail("server-filesystem is not installed: run `make install-node` (npm ci) first")
    upstream = {"transport": "stdio", "command": str(NODE), "args": [str(SCRIPT), str(files)]}
    with gateway({"upstreams": {"fs": upstream}}) as g:
        yield g


async def test_a_650_kb_file_read_passes_the_default_result_cap(gw: Gateway, files: Path) -> None:
    async with sdk_session(gw.url("fs")) as (s, _):
        result = await s.call_tool("read_text_file", {"path": str(files / "big.txt")})
    assert result.is_error is not True
    text = "".join(c.text for c in result.content if isinstance(c, TextContent))
    assert text.count(LINE) == SIZE // len(LINE)
    assert "untrusted data" in text  # the content guard ran: spotlighted
    assert not any(r.get("reason") == "result.too_large" for r in gw.audit())
