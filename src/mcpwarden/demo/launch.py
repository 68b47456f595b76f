"""`make run`: the gateway in front of the bundled demo server, with the default config.

State (audit trail, SQLite store) goes under ./var/ so a fresh clone runs without setup.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from mcpwarden.cli import UsageError
from mcpwarden.commands.preflight import port_problem
from mcpwarden.commands.serve import run_loop, serve
from mcpwarden.config import load_config

CONFIG = Path(__file__).with_name("gateway.yaml")


def main() -> int:
    # `python` in the demo config must be this interpreter (the project's venv).
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    config = load_config(CONFIG)
    var = Path.cwd() / "var"
    var.mkdir(exist_ok=True)
    config.audit.path = str(var / "audit.jsonl")
    config.store.path = str(var / "mcpwarden.sqlite3")
    port = int(os.environ.get("MCPWARDEN_PORT", config.listen.port))
    config.listen.port = port
    base = f"http://127.0.0.1:{port}"
    problem = port_problem(config.listen.host, port)
    if problem is not None:
        print(f"mcpwarden: error: {problem}", file=sys.stderr)
        return 2
    print(
        f"""
mcpwarden demo: the bundled notes server behind the gateway.

  Connect an MCP client to   {base}/mcp              (aggregated: tools are named notes__<tool>)
                        or   {base}/servers/notes/mcp (the notes server alone)

  Try it from another terminal:
    .venv/bin/python -m mcpwarden.demo.try_it {base}/servers/notes/mcp
  Or with the MCP Inspector (Streamable HTTP transport, URL above):
    npx -p node@22 -p @modelcontextprotocol/inspector mcp-inspector
  Audit trail: var/audit.jsonl   (check it with: .venv/bin/mcpwarden audit verify var/audit.jsonl)
  Config used: {CONFIG}
  Ctrl-C stops the gateway.
""",
        file=sys.stderr,
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        try:
            run_loop(serve(config, log_level="warning"))
        except UsageError as exc:
            print(f"mcpwarden: error: {exc}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
