"""`make replicas-up` / `make replicas-down`: two local replicas and a balancer.

`up` starts two `mcpwarden serve` processes of examples/replicas/gateway.yaml (replica ids
`r1`, `r2`, each with its own audit file under the state directory) and the project's
balancer in front of them, in the background; it returns once both replicas answer
`/readyz` and the balancer answers, and fails (stopping what it started, showing the logs)
otherwise. `down` stops them by the process ids `up` recorded, gracefully (SIGTERM: the
replicas drain) and then for good.

Run: python -m mcpwarden.replicas.launch up|down [--ports LB,R1,R2] [--state-dir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

DEFAULT_CONFIG = "examples/replicas/gateway.yaml"
DEFAULT_PORTS = (8770, 8771, 8772)
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 40.0


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return int(resp.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _spawn(argv: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )


def up(config: Path, ports: Sequence[int], state: Path) -> int:
    lb_port, *replica_ports = ports
    busy = [p for p in ports if not _port_free(p)]
    if busy:
        print(
            f"ports in use: {', '.join(map(str, busy))} (already up? try `make replicas-down`)",
            file=sys.stderr,
        )
        return 1
    state.mkdir(parents=True, exist_ok=True)
    started: list[tuple[str, subprocess.Popen[bytes]]] = []
    for i, port in enumerate(replica_ports, start=1):
        rid = f"r{i}"
        env = {
            **os.environ,
            # `python` in the example config must be this interpreter (the project's venv).
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "MCPWARDEN_REPLICA_ID": os.environ.get(f"MCPWARDEN_REPLICA_{i}_ID", rid),
            "MCPWARDEN_REPLICA_URL": f"http://127.0.0.1:{port}",
            "MCPWARDEN_AUDIT_PATH": str((state / f"audit-{rid}.jsonl").resolve()),
        }
        argv = [sys.executable, "-m", "mcpwarden", "serve", "-c", str(config), "--port", str(port)]
        started.append((rid, _spawn(argv, state / f"{rid}.log", env)))
    backends = [f"http://127.0.0.1:{p}" for p in replica_ports]
    argv = [
        sys.executable,
        "-m",
        "mcpwarden.replicas.balancer",
        "--listen",
        f"127.0.0.1:{lb_port}",
        *backends,
    ]
    started.append(("balancer", _spawn(argv, state / "balancer.log", dict(os.environ))))
    for name, proc in started:
        (state / f"{name}.pid").write_text(str(proc.pid))
    checks = [f"{b}/readyz" for b in backends] + [f"http://127.0.0.1:{lb_port}/lb/healthz"]
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        dead = [name for name, proc in started if proc.poll() is not None]
        if dead:
            break
        if all(_ready(url) for url in checks):
            print(f"replicas ready: {', '.join(backends)}; balancer on http://127.0.0.1:{lb_port}/mcp")
            return 0
        time.sleep(0.2)
    print("replicas did not become ready; logs:", file=sys.stderr)
    for name, _proc in started:
        log = state / f"{name}.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        print(f"--- {name}\n{tail}", file=sys.stderr)
    down(state)
    return 1


def down(state: Path) -> int:
    procs: list[tuple[Path, int]] = []
    for pid_file in sorted(state.glob("*.pid")):
        with contextlib.suppress(ValueError, OSError):
            procs.append((pid_file, int(pid_file.read_text().strip())))
    for _, pid in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for pid_file, pid in procs:
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        pid_file.unlink(missing_ok=True)
    print(f"stopped {len(procs)} process(es)")
    return 0


def _alive(pid: int) -> bool:
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mcpwarden.replicas.launch", description=__doc__)
    parser.add_argument("action", choices=("up", "down"))
    parser.add_argument("--config", type=Path, default=Path(DEFAULT_CONFIG))
    parser.add_argument(
        "--ports",
        default=",".join(map(str, DEFAULT_PORTS)),
        help="balancer port, then one port per replica (default 8770,8771,8772)",
    )
    parser.add_argument("--state-dir", type=Path, default=Path("var/replicas"))
    args = parser.parse_args(argv)
    if args.action == "down":
        return down(args.state_dir)
    try:
        ports = [int(p) for p in args.ports.split(",")]
    except ValueError:
        parser.error("--ports takes comma-separated integers")
    if len(ports) < 3:
        parser.error("--ports needs the balancer port and at least two replica ports")
    return up(args.config, ports, args.state_dir)


if __name__ == "__main__":
    sys.exit(main())
