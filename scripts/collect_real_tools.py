"""Dump the tools/list of published MCP servers into tests/data/real_tools.jsonl.

Why: the poisoning detector must be judged on real tool definitions, not only on the
benchmark's benign rows, or it learns the benchmark's style instead of the attacks. The
servers are installed into a scratch prefix (never the project's venv or node_modules) and
started over stdio with the official `mcp` client SDK; each row records the package and
version it came from so held-out packages can be chosen by name.

    npm install --prefix /tmp/mcp-corpus --ignore-scripts @modelcontextprotocol/server-memory ...
    uv venv /tmp/mcp-corpus/venv
    uv pip install --python /tmp/mcp-corpus/venv/bin/python mcp-server-fetch ...
    .venv/bin/python scripts/collect_real_tools.py --prefix /tmp/mcp-corpus --out tests/data/real_tools.jsonl

The servers of NPM_SERVERS and PYPI_SERVERS (added to reach 2,000 tools from 100+ packages,
pinned in PINS) each get their own npm prefix or venv, so that one dependency that is not on
the registry, or a clash of SDK majors, breaks one server only; `--print-install` prints those
installs. Python 3.12 venvs (3.13 for ha-mcp, unifi-network-mcp, vulners-mcp, which ask for
it), with `-c` a constraint file holding `mcp<2` for the servers written against the 1.x
server API; chroma-mcp also needs `pydantic<2.11` and mcp-scholarly `bibtexparser<2`, their own
pins being too loose. Rows of the original 47 packages are carried over with
`--keep tests/data/real_tools.jsonl`, and `--errlog-dir` keeps each server's stderr to see why
one did not start.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client

sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_tool_servers import NPM_SERVERS, PINS, PYPI_SERVERS, SERVERS, Server


def venv_for(server: Server, prefix: Path) -> Path:
    """A PyPI server's own venv (prefix/venvs/PACKAGE) when it has one, else the shared prefix/venv.

    Why: servers pin different SDK majors and Python versions, so one venv cannot hold them all.
    """
    own = prefix / "venvs" / server.package
    return own if own.is_dir() else prefix / "venv"


def npm_root_for(server: Server, prefix: Path) -> Path:
    """An npm server's own prefix (prefix/npm/PACKAGE) when it has one, else the shared prefix.

    Why: in one shared install a single dependency that is not on the registry (a tarball on
    some other host) fails every package; one prefix per server confines the failure.
    """
    own = prefix / "npm" / server.package
    return own if (own / "node_modules").is_dir() else prefix


def package_version(server: Server, prefix: Path) -> str:
    if server.ecosystem == "npm":
        root = npm_root_for(server, prefix)
        meta = json.loads((root / "node_modules" / server.package / "package.json").read_text())
        return str(meta["version"])
    site = next((venv_for(server, prefix) / "lib").glob("python*/site-packages"))
    norm = server.package.replace("-", "_").lower()
    for dist in site.glob("*.dist-info"):
        name, _, version = dist.name[: -len(".dist-info")].partition("-")
        if name.lower() == norm:
            return version
    return "unknown"


def params_for(server: Server, prefix: Path, node: str, scratch: Path) -> StdioServerParameters:
    def fill(text: str) -> str:
        return text.replace("{scratch}", str(scratch))

    args = [fill(a) for a in server.args]
    env = {
        "PATH": f"{Path(node).parent}:/usr/bin:/bin",
        "HOME": str(scratch),
        **{k: fill(v) for k, v in server.env.items()},
    }
    if server.ecosystem == "npm":
        script = npm_root_for(server, prefix) / "node_modules" / ".bin" / server.entry
        return StdioServerParameters(command=node, args=[str(script.resolve()), *args], env=env, cwd=scratch)
    # cwd is the scratch dir too: some servers write logs or caches into their working directory.
    return StdioServerParameters(
        command=str(venv_for(server, prefix) / "bin" / server.entry), args=args, env=env, cwd=scratch
    )


async def list_tools(
    params: StdioServerParameters, timeout: float, errlog: Path | None
) -> list[dict[str, Any]]:
    tools: list[dict[str, Any]] = []
    with anyio.fail_after(timeout), open(errlog or os.devnull, "w") as log:
        async with (
            stdio_client(params, errlog=log) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            cursor: str | None = None
            while True:
                page_params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
                page = await session.list_tools(params=page_params)
                tools.extend(t.model_dump(mode="json", exclude_none=True, by_alias=True) for t in page.tools)
                cursor = page.next_cursor
                if not cursor:
                    break
    return tools


def dedupe(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (package, tool name), sorted; the first seen wins.

    Why: a server that lists the same tool twice (or a --keep carry-over that overlaps a fresh
    dump) would otherwise weigh that definition twice in training and in the FPR.
    """
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        seen.setdefault((row["package"], str(row["tool"].get("name", ""))), row)
    return [seen[key] for key in sorted(seen)]


async def main_async(args: argparse.Namespace) -> int:
    prefix = Path(args.prefix)
    scratch = Path(args.scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for server in (*SERVERS, *NPM_SERVERS, *PYPI_SERVERS):
        if args.only and server.package not in args.only:
            continue
        try:
            version = package_version(server, prefix)
            pinned = PINS.get(server.package)
            if pinned and version != pinned:
                raise RuntimeError(f"installed {version}, pinned {pinned}")
            errlog = (
                Path(args.errlog_dir) / f"{server.package.replace('/', '+')}.log" if args.errlog_dir else None
            )
            tools = await list_tools(params_for(server, prefix, args.node, scratch), args.timeout, errlog)
        except Exception as exc:  # one broken server must not stop the dump
            print(f"skip {server.package}: {type(exc).__name__}: {exc}"[:300], file=sys.stderr)
            continue
        print(f"{server.package}@{version}: {len(tools)} tools", file=sys.stderr)
        for tool in tools:
            tool.pop("_meta", None)
            rows.append(
                {"package": server.package, "ecosystem": server.ecosystem, "version": version, "tool": tool}
            )
    if args.keep and Path(args.keep).exists():
        # Servers pin different SDK majors, so one scratch venv may not start them all:
        # rows of packages that did not answer this time are carried over from an earlier dump.
        collected = {r["package"] for r in rows}
        for line in Path(args.keep).read_text(encoding="utf-8").splitlines():
            old = json.loads(line)
            if old["package"] not in collected:
                rows.append({k: v for k, v in old.items() if k != "id"})
    rows = dedupe(rows)
    with open(args.out, "w", encoding="utf-8") as fh:
        for i, row in enumerate(rows):
            fh.write(json.dumps({"id": f"real-{i:04d}", **row}, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"wrote {len(rows)} tools to {args.out}", file=sys.stderr)
    return 0


def install_commands(prefix: Path) -> list[str]:
    """The pinned install of every added server, one prefix or venv each (see the docstring)."""
    out: list[str] = []
    for server in NPM_SERVERS:
        root = prefix / "npm" / server.package
        out.append(
            f"npm install --prefix {root} --ignore-scripts --legacy-peer-deps "
            f"{server.package}@{PINS[server.package]}"
        )
    for server in PYPI_SERVERS:
        venv = prefix / "venvs" / server.package
        pin = f"{server.package}=={PINS[server.package]}"
        out.append(f"uv venv {venv} && uv pip install --python {venv}/bin/python {pin}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", default="/tmp/mcp-corpus", help="npm --prefix with a venv/ inside")
    parser.add_argument("--scratch", default="/tmp/mcp-corpus/scratch", help="HOME and data dir for servers")
    parser.add_argument("--node", default=shutil.which("node") or "node_modules/.bin/node")
    parser.add_argument("--out", default="tests/data/real_tools.jsonl")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--only", nargs="*", help="package names to collect (default: all)")
    parser.add_argument("--errlog-dir", help="write each server's stderr here (default: discarded)")
    parser.add_argument("--keep", help="earlier dump whose rows are kept for packages that fail to start now")
    parser.add_argument("--print-install", action="store_true", help="print the pinned installs and exit")
    args = parser.parse_args()
    if args.print_install:
        print("\n".join(install_commands(Path(args.prefix))))
        return 0
    return anyio.run(main_async, args)


if __name__ == "__main__":
    sys.exit(main())
