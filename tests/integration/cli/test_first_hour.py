"""What a new user meets in the first hour, through the real CLI: one-sentence startup and
config errors, `config check` finding what `serve` would fail on, stdin for the detectors,
and `scan` saying where it looked. Every command is a real process on real files."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from gwtest.procs import PYTHON, ROOT, free_port, stop, wait_http

pytestmark = pytest.mark.integration


def mcpwarden(
    *args: str, cwd: Path | None = None, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([PYTHON, "-m", "mcpwarden", *args], input=stdin, capture_output=True, timeout=120)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text(text)
    return path


def test_a_misspelt_key_is_one_sentence_with_did_you_mean(tmp_path: Path) -> None:
    cfg = config(tmp_path, "upstreams:\n  notes:\n    transport: stdio\n    comand: notes-server\n")
    done = mcpwarden("config", "check", str(cfg))
    assert done.returncode == 2
    assert done.stderr == (
        f"mcpwarden: error: {cfg}: upstreams.notes.comand: unknown key 'comand'; did you mean 'command'?\n"
    )


def test_a_wrong_transport_names_the_key_and_the_choices(tmp_path: Path) -> None:
    cfg = config(tmp_path, "upstreams:\n  notes: {transport: stdoi, command: x}\n")
    done = mcpwarden("config", "check", str(cfg))
    assert done.stderr == (
        f"mcpwarden: error: {cfg}: upstreams.notes.transport: is 'stdoi'; expected one of 'http', "
        "'stdio'; did you mean 'stdio'?\n"
    )


def test_a_missing_transport_is_named_without_pydantic_words(tmp_path: Path) -> None:
    cfg = config(tmp_path, "upstreams:\n  notes: {command: x}\n")
    done = mcpwarden("config", "check", str(cfg))
    assert "upstreams.notes.transport: required key 'transport' is missing: one of 'http', 'stdio'" in (
        done.stderr
    )
    assert "discriminator" not in done.stderr and "function-after" not in done.stderr


def test_an_empty_config_is_an_error(tmp_path: Path) -> None:
    cfg = config(tmp_path, "audit: {path: null}\n")
    done = mcpwarden("config", "check", str(cfg))
    assert done.returncode == 2 and "no upstream is configured" in done.stderr


def test_config_check_finds_what_serve_would_fail_on(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        "policy: missing-policy.yaml\n"
        "upstreams:\n"
        "  notes: {transport: stdio, command: no-such-notes-server}\n"
        "  web: {transport: http, url: 'http://127.0.0.1:9/mcp', allow_private: true,"
        " credentials: {mode: bearer, token: 'file:/no/such/token'}}\n",
    )
    check = mcpwarden("config", "check", str(cfg))
    assert check.returncode == 2
    assert check.stderr.splitlines() == [
        f"mcpwarden: error: {cfg}: policy: file {tmp_path / 'missing-policy.yaml'} does not exist; "
        "expected a policy file (YAML, see docs/policy.md)",
        f"{cfg}: upstreams.notes.command: command 'no-such-notes-server' is not found on PATH",
        f"{cfg}: upstreams.web.credentials.token: secret file /no/such/token does not exist; "
        "expected a non-empty secret",
    ]
    serve = mcpwarden("serve", "-c", str(cfg), "--port", "0")
    assert serve.returncode == 2 and serve.stderr == check.stderr


def test_config_check_reports_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cfg = config(
            tmp_path,
            f"listen: {{port: {port}}}\nupstreams:\n  notes: {{transport: stdio, command: {PYTHON}}}\n",
        )
        done = mcpwarden("config", "check", str(cfg))
    assert done.returncode == 2
    assert done.stderr == (
        f"mcpwarden: error: {cfg}: listen: port {port} on 127.0.0.1 is in use by another program; "
        "pick another with --port\n"
    )


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen(
        [PYTHON, "-m", "mcpwarden.demo.launch"], cwd=tmp_path,
        env={**os.environ, "MCPWARDEN_PORT": str(port)}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc=proc, timeout=60)
        yield port
    finally:
        stop(proc)


def test_a_second_demo_says_a_gateway_already_runs(demo: int, tmp_path: Path) -> None:
    second = subprocess.run(
        [PYTHON, "-m", "mcpwarden.demo.launch"], cwd=tmp_path, capture_output=True, timeout=120,
        env={**os.environ, "MCPWARDEN_PORT": str(demo)},
    )  # fmt: skip
    assert second.returncode == 2
    assert second.stderr.decode() == (
        f"mcpwarden: error: a gateway already runs on 127.0.0.1:{demo} (stop it first, or pass --port)\n"
    )


def test_serve_on_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cfg = config(tmp_path, f"upstreams:\n  notes: {{transport: stdio, command: {PYTHON}}}\n")
        done = mcpwarden("serve", "-c", str(cfg), "--port", str(port))
    assert done.returncode == 2
    assert done.stderr == (
        f"mcpwarden: error: port {port} on 127.0.0.1 is in use by another program; pick another with --port\n"
    )


def test_detect_reads_rows_from_stdin() -> None:
    rows = (ROOT / "examples" / "texts.jsonl").read_bytes()
    done = mcpwarden("detect", stdin=rows)
    verdicts = {v["id"]: v["flagged"] for v in map(orjson.loads, done.stdout.splitlines())}
    assert verdicts == {"meeting": False, "recipe": False, "override": True, "hidden-comment": True}


def test_scan_tools_reads_rows_from_stdin() -> None:
    rows = (ROOT / "examples" / "tools.jsonl").read_bytes()
    done = mcpwarden("scan-tools", stdin=rows)
    verdicts = {v["id"]: v["flagged"] for v in map(orjson.loads, done.stdout.splitlines())}
    assert verdicts == {"weather": False, "read-file": False, "poisoned-add": True, "shadowing": True}


def test_scan_lists_where_it_looked(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".cursor").mkdir(parents=True)
    (home / ".cursor" / "mcp.json").write_text('{"mcpServers": {}}')
    done = mcpwarden("scan", "--home", str(home), "--platform", "linux", "--no-project", "--format", "json")
    assert done.stderr.splitlines()[0] == "looked for MCP client configs in:"
    assert f"  found   cursor          {home / '.cursor' / 'mcp.json'}" in done.stderr.splitlines()
    assert f"  absent  claude-code     {home / '.claude.json'}" in done.stderr.splitlines()
    orjson.loads(done.stdout)  # stdout stays the report alone
