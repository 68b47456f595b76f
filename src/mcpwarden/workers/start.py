"""Start `serve --workers N`: bind the address, run the supervisor, print where it listens."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from mcpwarden.workers.supervisor import Supervisor, bind

if TYPE_CHECKING:
    from mcpwarden.config import GatewayConfig


def run_supervisor(argv: list[str], config: GatewayConfig, count: int, *, drain_s: float) -> int:
    """Each worker re-runs this same command line (the environment tells it its place), so it
    loads the config exactly as the supervisor did: same file, same overrides."""
    sock = bind(config.listen.host, config.listen.port)
    supervisor = Supervisor([sys.executable, "-m", "mcpwarden", *argv], sock, count, drain_s=drain_s)

    def announce(port: int) -> None:
        host = config.listen.host
        shown = f"[{host}]" if ":" in host else host
        lines = [
            f"mcpwarden gateway listening on http://{shown}:{port} ({count} workers)",
            f"  aggregated endpoint: http://{shown}:{port}/mcp",
            *(f"  upstream {name!r}:  http://{shown}:{port}/servers/{name}/mcp" for name in config.upstreams),
        ]
        print("\n".join(lines), file=sys.stderr, flush=True)

    return supervisor.run(announce)
