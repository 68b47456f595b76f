"""A client on the 1.x SDK, which only knows the handshake era, keeps working through the gateway
in front of 2.x SDK servers (one over HTTP, one over stdio): listing, calls, structured results,
sampling and elicitation round trips, and a guard's refusal as a JSON-RPC error."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gwtest.procs import FEATURES_SERVER, Gateway, gateway, http_server, http_upstream, stdio_upstream
from legacy_sdk.venv import CLIENT_SCRIPT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

UPSTREAMS = ["web", "local"]


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    tools = {"deny": ["crash"]}
    with http_server(FEATURES_SERVER, "--name", "web") as (url, _):
        config = {
            "upstreams": {
                "web": http_upstream(url, timeout_s=20, tools=tools),
                "local": stdio_upstream("local", timeout_s=20, tools=tools),
            }
        }
        with gateway(config) as g:
            yield g


@pytest.fixture(scope="module", params=UPSTREAMS)
def run(request: pytest.FixtureRequest, legacy_python: Path, gw: Gateway) -> tuple[str, dict[str, Any]]:
    """One 1.x client session per upstream, shared by the assertions below."""
    upstream: str = request.param
    done = subprocess.run(
        [str(legacy_python), str(CLIENT_SCRIPT), gw.url(upstream)],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return upstream, json.loads(done.stdout)


def test_legacy_client_is_really_on_the_1x_sdk(legacy_python: Path) -> None:
    version = subprocess.run(
        [str(legacy_python), "-c", "import importlib.metadata as m; print(m.version('mcp'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version.startswith("1.")


def test_legacy_client_negotiates_the_handshake_era(run: tuple[str, dict[str, Any]]) -> None:
    _, report = run
    assert report["protocol"] == "2025-11-25"
    assert {"echo", "add", "ask_model", "confirm_action"} <= set(report["tools"])
    assert "crash" not in report["tools"]


def test_legacy_client_calls_and_round_trips_through_2x_servers(run: tuple[str, dict[str, Any]]) -> None:
    upstream, report = run
    assert report["echo"] == f"{upstream}: from 1.x"
    assert report["structured"] == {"result": 5}
    assert report["sampling"] == "v1 model"
    assert report["elicitation"] == "confirmed=True"
    assert report["refused"] == {"code": -32003, "data": {"reason": "tool.denied", "guard": "tool_filter"}}
