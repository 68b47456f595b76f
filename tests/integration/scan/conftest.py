"""Fixtures for the scanner's live-inspection tests; helpers live in scan_live_kit.py."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# The helpers module sits next to this file; make it importable however pytest imports us.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scan_live_kit import POISONED

from gwtest.ports import free_port


def _free_port() -> int:
    return free_port()


@pytest.fixture
def poisoned_http() -> Iterator[str]:
    """The poisoned server over Streamable HTTP on a loopback port; yields its URL."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(POISONED), "--http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("poisoned HTTP server did not start")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
