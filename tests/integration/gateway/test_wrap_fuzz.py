"""Fuzz `mcpwarden wrap` on stdin: whatever a client sends, the wrapper stays up, writes only
JSON-RPC on stdout, prints no traceback, and still answers a well-formed request at the end.

A bounded number of examples runs in the suite; `make fuzz-wrap` sets MCPWARDEN_FUZZ_EXAMPLES
for a long run. Each example is one real wrapper process fed a batch of generated lines.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gwtest.procs import FIXTURES, PYTHON

pytestmark = pytest.mark.integration

SERVER = FIXTURES / "minimal_stdio_server.py"
EXAMPLES = int(os.environ.get("MCPWARDEN_FUZZ_EXAMPLES", "4"))

INIT = {
    "jsonrpc": "2.0",
    "id": "init",
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "f", "version": "1"},
    },
}
LAST = {"jsonrpc": "2.0", "id": "last", "method": "tools/list"}

# Integers within what JSON encoders accept (64 bits); bigger literals arrive as raw text lines.
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
# Ids of every type, never the two the test itself uses.
ids = json_values.filter(lambda v: v not in ("init", "last"))
methods = st.sampled_from(
    [
        "tools/list",
        "tools/call",
        "initialize",
        "ping",
        "resources/read",
        "notifications/cancelled",
        "notifications/progress",
        "notifications/initialized",
        "notifications/roots/list_changed",
        "sampling/createMessage",
    ]
) | st.text(max_size=30)
params = (
    st.none()
    | json_values
    | st.fixed_dictionaries(
        {"requestId": json_values, "name": st.sampled_from(["echo", "nope"]) | st.text(max_size=5)},
        optional={"arguments": json_values, "progressToken": json_values},
    )
)


@st.composite
def messages(draw: Any) -> bytes:
    msg: dict[str, Any] = {}
    if draw(st.booleans()):
        msg["jsonrpc"] = draw(st.sampled_from(["2.0", "1.0"]) | scalars)
    if draw(st.booleans()):
        msg["id"] = draw(ids)
    if draw(st.integers(0, 3)):
        msg["method"] = draw(methods)
    if draw(st.booleans()):
        msg["params"] = draw(params)
    if draw(st.integers(0, 4)) == 0:
        msg[draw(st.sampled_from(["result", "error"]))] = draw(json_values)
    return orjson.dumps(msg)


def nested(depth: int) -> bytes:
    return b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":' + b"[" * depth + b"]" * depth + b"}"


lines = st.lists(
    messages()
    | json_values.map(orjson.dumps)
    | st.binary(max_size=200)
    | st.integers(60, 1500).map(nested)
    | st.text(max_size=200).map(str.encode),
    min_size=1,
    max_size=25,
)


@pytest.mark.timeout(120 + 60 * EXAMPLES)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 10,  # the bounded suite run is reproducible; the long run explores
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(fuzz=lines)
def test_wrap_survives_any_client_input(fuzz: list[bytes], tmp_path: Path) -> None:
    stdin = b"".join(
        [
            orjson.dumps(INIT),
            b"\n",
            *(line.replace(b"\n", b" ") + b"\n" for line in fuzz),
            orjson.dumps(LAST),
            b"\n",
        ]
    )
    proc = subprocess.run(
        [PYTHON, "-m", "mcpwarden", "wrap", "--", PYTHON, str(SERVER)],
        input=stdin,
        capture_output=True,
        timeout=120,
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert b"Traceback" not in proc.stderr, proc.stderr.decode(errors="replace")
    out = [orjson.loads(line) for line in proc.stdout.splitlines()]
    assert all(isinstance(m, dict) and m.get("jsonrpc") == "2.0" for m in out)
    last = [m for m in out if m.get("id") == "last"]
    assert len(last) == 1 and "result" in last[0], out[-3:]
