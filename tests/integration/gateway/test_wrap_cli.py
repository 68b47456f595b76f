"""`mcpwarden wrap` as a user and a hostile client meet it: a real wrapper process with the
minimal stdio server as its child, stdin and stdout as regular files or pipes, malformed lines.

Each test states one behaviour of the wrapper's own I/O; the guard pipeline behind it is
covered by test_wrap.py with the SDK's own client and server.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

from gwtest.procs import FIXTURES, PYTHON

pytestmark = pytest.mark.integration

# A plain-Python stdio server: starts in milliseconds even on a loaded machine.
SERVER = FIXTURES / "minimal_stdio_server.py"
STATE = "minimal-stdio-server"  # the state folder wrap derives from that command

INIT = {
    "jsonrpc": "2.0",
    "id": "init",
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
LIST = {"jsonrpc": "2.0", "id": "last", "method": "tools/list"}


def wrap_cmd(*server: str) -> list[str]:
    return [PYTHON, "-m", "mcpwarden", "wrap", "--", *(server or (PYTHON, str(SERVER)))]


def env_with_state(state: Path) -> dict[str, str]:
    return {**os.environ, "XDG_STATE_HOME": str(state)}


def lines(*msgs: Any) -> bytes:
    return b"".join((m if isinstance(m, bytes) else orjson.dumps(m)) + b"\n" for m in msgs)


def replies(stdout: bytes) -> dict[Any, dict[str, Any]]:
    """Replies by id (None collects the id-less error replies in a list under 'null')."""
    by_id: dict[Any, Any] = {"null": []}
    for raw in stdout.splitlines():
        msg = orjson.loads(raw)
        if msg.get("id") is None:
            by_id["null"].append(msg)
        else:
            by_id[msg["id"]] = msg
    return by_id


def run_wrap(stdin: bytes, tmp_path: Path, timeout: float = 90) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        wrap_cmd(), input=stdin, capture_output=True, timeout=timeout, env=env_with_state(tmp_path)
    )


def test_wrap_reads_requests_from_a_file_and_writes_replies_to_a_file(tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_bytes(lines(INIT, INITIALIZED, LIST))
    out_path = tmp_path / "replies.jsonl"
    with requests.open("rb") as stdin, out_path.open("wb") as stdout:
        proc = subprocess.run(
            wrap_cmd(), stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, timeout=90,
            env=env_with_state(tmp_path),
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    got = replies(out_path.read_bytes())
    assert got["init"]["result"]["serverInfo"]
    assert "echo" in {t["name"] for t in got["last"]["result"]["tools"]}


def test_wrap_passes_the_server_stderr_through_and_into_the_audit(tmp_path: Path) -> None:
    server = tmp_path / "fatal-server"
    server.write_text("#!/bin/sh\necho 'FATAL: missing API_KEY' >&2\nexit 3\n")
    server.chmod(0o755)
    proc = subprocess.run(
        wrap_cmd(str(server)),
        input=lines(INIT),
        capture_output=True,
        timeout=60,
        env=env_with_state(tmp_path),
    )
    assert b"FATAL: missing API_KEY" in proc.stderr
    # Whether the child died before or after the session reached it, the client gets an error.
    assert replies(proc.stdout)["init"]["error"]["data"]["reason"].startswith("upstream.")
    audit = (tmp_path / "mcpwarden" / "fatal-server" / "audit.jsonl").read_bytes()
    records = [orjson.loads(r) for r in audit.splitlines()]
    assert any(
        r.get("reason") == "upstream.stderr" and "FATAL: missing API_KEY" in r.get("message", "")
        for r in records
    )


def test_wrap_names_a_command_that_does_not_exist(tmp_path: Path) -> None:
    proc = subprocess.run(
        wrap_cmd("no-such-mcp-server-anywhere", "--flag"), capture_output=True, timeout=60,
        env=env_with_state(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.decode().strip() == (
        "mcpwarden: error: cannot run the server: command 'no-such-mcp-server-anywhere' is not found on PATH"
    )


def test_wrap_without_config_keeps_pins_and_audit_in_the_user_state_folder(tmp_path: Path) -> None:
    proc = run_wrap(lines(INIT, INITIALIZED, LIST), tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    folder = tmp_path / "mcpwarden" / STATE
    assert (folder / "pins.sqlite3").stat().st_size > 0
    verify = subprocess.run(
        [PYTHON, "-m", "mcpwarden", "audit", "verify", str(folder / "audit.jsonl")],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # A second run (a client restart) sees the pins the first one recorded.
    from mcpwarden.store import SQLiteStore

    store = SQLiteStore(str(folder / "pins.sqlite3"))
    try:
        assert any(p.name == "echo" for p in store.list_pins())
    finally:
        store.close()


def test_wrap_answers_each_malformed_line_and_keeps_serving(tmp_path: Path) -> None:
    deep = (
        b'{"jsonrpc":"2.0","id":"deep","method":"tools/call","params":{"name":"echo","arguments":{"text":'
        + (b"[" * 900 + b"]" * 900 + b"}}}")
    )
    proc = run_wrap(
        lines(
            INIT,
            INITIALIZED,
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": [1]}},
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": {"a": 1}}},
            {"jsonrpc": "2.0", "id": [1], "method": "tools/list"},
            {"jsonrpc": "2.0", "id": {"x": 1}, "result": {}},
            deep,
            b"[" * 5000,
            b"not json at all",
            LIST,
        ),
        tmp_path,
    )
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr.decode()
    got = replies(proc.stdout)
    assert got["deep"]["error"]["data"]["reason"] == "jsonrpc.too_deep"
    assert [m["error"]["data"]["reason"] for m in got["null"]] == [
        "jsonrpc.invalid",  # cancellation naming a list
        "jsonrpc.invalid",  # cancellation naming an object
        "jsonrpc.invalid",  # request with a list id
        "jsonrpc.invalid",  # response with an object id
        "jsonrpc.parse_error",  # 5,000 open brackets
        "jsonrpc.parse_error",
    ]
    assert "echo" in {t["name"] for t in got["last"]["result"]["tools"]}
    audit = (tmp_path / "mcpwarden" / STATE / "audit.jsonl").read_bytes()
    reasons = [orjson.loads(r).get("reason") for r in audit.splitlines()]
    assert reasons.count("jsonrpc.invalid") == 4 and reasons.count("jsonrpc.too_deep") == 1


def test_wrap_bounds_line_length_and_reads_the_next_line_correctly(tmp_path: Path) -> None:
    huge = b'{"jsonrpc":"2.0","id":"huge","method":"tools/call","params":{"name":"echo","arguments":{"text":"'
    huge += b"x" * (9 * 1_048_576) + b'"}}}'
    proc = run_wrap(lines(INIT, INITIALIZED, huge, LIST), tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    got = replies(proc.stdout)
    assert [m["error"]["data"]["reason"] for m in got["null"]] == ["transport.body_too_large"]
    assert "huge" not in got
    assert "echo" in {t["name"] for t in got["last"]["result"]["tools"]}


def test_wrap_exits_quietly_when_the_client_stops_reading(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read the replies
    try:
        proc = subprocess.run(
            wrap_cmd(), input=lines(INIT, INITIALIZED, LIST), stdout=write_end, stderr=subprocess.PIPE,
            timeout=90, env=env_with_state(tmp_path),
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert proc.returncode == 0
    assert b"Traceback" not in proc.stderr, proc.stderr.decode()


def test_wrap_works_with_stdin_and_stdout_as_pipes(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        wrap_cmd(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=env_with_state(tmp_path),
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(lines(INIT))
    proc.stdin.flush()
    first = orjson.loads(proc.stdout.readline())
    assert first["id"] == "init" and "result" in first
    proc.stdin.write(lines(INITIALIZED, LIST))
    proc.stdin.close()
    rest = proc.stdout.read()
    assert proc.wait(60) == 0
    assert "echo" in {t["name"] for t in replies(rest)["last"]["result"]["tools"]}
