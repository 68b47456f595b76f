"""The supervisor with stand-in workers (tiny Python commands): announce, stop, give up."""

from __future__ import annotations

import sys

from mcpwarden.workers.supervisor import MAX_START_FAILURES, Supervisor, bind

# Says it is ready the way a worker does (`<index>:<pid>` on the inherited pipe), then waits.
READY_THEN_WAIT = (
    "import os, time\n"
    "index, _, _, ready, _ = os.environ['MCPWARDEN_WORKER'].split('/', 4)\n"
    "os.write(int(ready), f'{index}:{os.getpid()}\\n'.encode())\n"
    "time.sleep(120)\n"
)


def test_announces_once_every_worker_is_ready_and_stops_them_all() -> None:
    supervisor = Supervisor([sys.executable, "-c", READY_THEN_WAIT], bind("127.0.0.1", 0), 2, drain_s=1)
    announced: list[int] = []

    def announce(port: int) -> None:
        announced.append(port)
        supervisor.stopping = True  # as SIGTERM would

    assert supervisor.run(announce) == 0
    assert len(announced) == 1 and announced[0] > 0
    assert all(w.proc is not None and w.proc.returncode is not None for w in supervisor.workers)
    assert not supervisor.run_dir.exists()


def test_gives_up_with_the_workers_status_when_they_never_get_ready() -> None:
    command = [sys.executable, "-c", "raise SystemExit(2)"]
    supervisor = Supervisor(command, bind("127.0.0.1", 0), 2, drain_s=1)
    assert supervisor.run(lambda _port: None) == 2
    assert max(len(w.exits) for w in supervisor.workers) == MAX_START_FAILURES
