"""`mcpwarden serve` fronts one server given on the command line, with the defaults and no
config file: a stdio command after `--`, or a Streamable HTTP URL. The SDK client talks to it."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gwtest.client import sdk_session
from gwtest.procs import FEATURES_SERVER, FIXTURES, PYTHON, free_port, http_server, stop, wait_http

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@contextlib.contextmanager
def serve(tmp_path: Path, *args: str) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [PYTHON, "-m", "mcpwarden", "serve", "--port", str(port), *args],
        cwd=tmp_path, env={**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")},
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc=proc, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
        log.close()


async def test_serve_fronts_a_stdio_command_given_after_double_dash(tmp_path: Path) -> None:
    server = FIXTURES / "minimal_stdio_server.py"
    with serve(tmp_path, "--", PYTHON, str(server)) as base:
        async with sdk_session(f"{base}/servers/minimal-stdio-server/mcp") as (s, _):
            assert [t.name for t in (await s.list_tools()).tools] == ["echo"]
    state = tmp_path / "state" / "mcpwarden" / "minimal-stdio-server"
    assert (state / "audit.jsonl").stat().st_size > 0 and (state / "pins.sqlite3").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serve.log", "state"]  # nothing in the cwd


async def test_serve_fronts_an_http_url_with_a_chosen_name(tmp_path: Path) -> None:
    with (
        http_server(FEATURES_SERVER) as (url, _),
        serve(tmp_path, "--upstream", url, "--name", "feat") as base,
    ):
        async with sdk_session(f"{base}/mcp") as (s, _):
            assert "feat__echo" in {t.name for t in (await s.list_tools()).tools}


def test_serve_without_a_server_or_config_says_what_it_needs(tmp_path: Path) -> None:
    done = subprocess.run([PYTHON, "-m", "mcpwarden", "serve"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == (
        "mcpwarden: error: serve needs -c CONFIG, --upstream URL, or a server command after --\n"
    )
