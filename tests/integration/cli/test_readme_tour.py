"""Every shell command of README.md's tour works verbatim from a fresh copy of the repository.

The copy holds the files git knows (what a clone has), gets its own virtual environment from
`make run` (uv links packages from its warm cache; npm is made to fail, since the demo
must need Python alone), and runs the demo on a free loopback port
(the README's 8765 is replaced by it, nothing else is changed). HOME points at an empty folder
so that `scan` reads no real client configs. At the end nothing but ignored scratch (var/,
.venv/) may have appeared in the copy.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gwtest.procs import ROOT, free_port, stop, wait_http

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def tour_commands(readme: str) -> list[str]:
    """Shell lines of the ```sh blocks in the tour section, comments dropped."""
    tour = readme.split("## A five-minute tour", 1)[1].split("\n## ", 1)[0]
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", tour, flags=re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line:
                commands.append(line)
    return commands


def uv_dir() -> str | None:
    found = shutil.which("uv")
    local = Path.home() / ".local" / "bin" / "uv"
    return str(Path(found).parent) if found else (str(local.parent) if local.exists() else None)


@pytest.fixture
def checkout(tmp_path: Path) -> Iterator[Path]:
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.split(b"\0")  # fmt: skip
    copy = tmp_path / "mcpwarden"
    for name in filter(None, files):
        src = ROOT / name.decode()
        if src.is_file():
            dest = copy / name.decode()
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)
    subprocess.run(["git", "add", "-A"], cwd=copy, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "copy"],
        cwd=copy, check=True,
    )  # fmt: skip
    yield copy


# Installs a whole environment: minutes on a loaded machine, not the suite's 120 s default.
@pytest.mark.timeout(900)
def test_readme_tour_commands_run_verbatim_in_a_fresh_copy(checkout: Path, tmp_path: Path) -> None:
    commands = tour_commands((checkout / "README.md").read_text())
    assert commands[0] == "make run"
    uv = uv_dir()
    if uv is None:
        pytest.skip("uv is not installed (make test installs it)")
    home = tmp_path / "home"
    home.mkdir()
    # `make run` must not need Node: npm and npx that fail loudly come first on PATH.
    shims = tmp_path / "no-node"
    shims.mkdir()
    for tool in ("npm", "npx"):
        (shims / tool).write_text('#!/bin/sh\necho "$0 was called" >&2\nexit 97\n')
        (shims / tool).chmod(0o755)
    port = free_port()
    env = {
        **os.environ,
        "HOME": str(home),
        "PATH": os.pathsep.join([str(shims), uv, os.environ["PATH"]]),
        "MCPWARDEN_PORT": str(port),
        # Bytecode compiled at install, as a warm machine has it: a loaded CI machine otherwise
        # spends the first server start compiling.
        "UV_COMPILE_BYTECODE": "1",
        "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv")),
    }
    env.pop("VIRTUAL_ENV", None)
    log = (tmp_path / "make-run.log").open("wb")
    demo = subprocess.Popen(
        ["bash", "-c", commands[0]], cwd=checkout, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=300, proc=demo)
        for command in commands[1:]:
            line = command.replace("8765", str(port))
            done = subprocess.run(
                ["bash", "-c", line], cwd=checkout, env=env, capture_output=True, timeout=180
            )
            assert done.returncode == 0, f"{command}\n{done.stdout.decode()}\n{done.stderr.decode()}"
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        try:
            demo.wait(20)
        except subprocess.TimeoutExpired:
            stop(demo)
        log.close()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=checkout, capture_output=True,
        text=True, check=True,
    ).stdout  # fmt: skip
    assert status == "", f"the tour left files outside scratch folders:\n{status}"
    assert (checkout / "var" / "mcp.sarif").exists()
