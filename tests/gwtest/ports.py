"""Loopback ports for processes a test starts, safe when several test processes run at once.

A port found free and closed again is only reserved once the child binds it. Ports the
kernel hands out for `bind(0)` come from its ephemeral range, which every outgoing
connection (httpx clients, the gateway's upstream pools) and every other test process draws
from too, so in that gap another process can take the port. The ports here come from
below the ephemeral range instead, one block per pytest-xdist worker, handed out in turn
from a random start: two workers never share a block, outgoing connections never use these
ports, and a port is not handed out again until the block has gone round.
"""

from __future__ import annotations

import itertools
import os
import random
import socket

BLOCK_START = 20000  # the Linux ephemeral range starts at 32768 by default
BLOCK_SIZE = 1500
BLOCKS = 8  # xdist workers beyond this share blocks (still probed before use)


def _block() -> range:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    start = BLOCK_START + (index % BLOCKS) * BLOCK_SIZE
    return range(start, start + BLOCK_SIZE)


_BLOCK = _block()
_TURN = itertools.count(random.randrange(BLOCK_SIZE))


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> int:
    """The first of `count` consecutive loopback ports nothing is bound to (for a process
    that binds a run of ports, such as per-worker metrics), from this worker's block; later
    calls start past the run, so they never hand out a port inside it."""
    for _ in range(BLOCK_SIZE):
        first = next(_TURN) % BLOCK_SIZE
        if first + count > BLOCK_SIZE:
            continue
        run = [_BLOCK[first + i] for i in range(count)]
        if all(map(_bindable, run)):
            for _ in range(count - 1):
                next(_TURN)
            return run[0]
    raise RuntimeError(f"no {count} free ports in a row in {_BLOCK.start}-{_BLOCK.stop - 1}")


def free_port() -> int:
    """A loopback port nothing is bound to, from this worker's block."""
    return free_ports(1)


def dead_port() -> int:
    """A loopback port with nothing listening on it (for tests of unreachable services)."""
    return free_port()
