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
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

DUMMY = "dummy-not-a-real-credential"


@dataclass(frozen=True)
class Server:
    package: str
    ecosystem: str  # "npm" or "pypi"
    entry: str  # npm: a name under node_modules/.bin (or a path relative to it); pypi: a console script
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


SERVERS: tuple[Server, ...] = (
    Server(
        "@modelcontextprotocol/server-filesystem",
        "npm",
        "../@modelcontextprotocol/server-filesystem/dist/index.js",
        ("{scratch}",),
    ),
    Server("@modelcontextprotocol/server-memory", "npm", "mcp-server-memory"),
    Server("@modelcontextprotocol/server-everything", "npm", "mcp-server-everything"),
    Server(
        "@modelcontextprotocol/server-github",
        "npm",
        "mcp-server-github",
        env={"GITHUB_PERSONAL_ACCESS_TOKEN": DUMMY},
    ),
    Server("@modelcontextprotocol/server-sequential-thinking", "npm", "mcp-server-sequential-thinking"),
    Server(
        "@modelcontextprotocol/server-brave-search",
        "npm",
        "mcp-server-brave-search",
        env={"BRAVE_API_KEY": DUMMY},
    ),
    Server(
        "@modelcontextprotocol/server-slack",
        "npm",
        "mcp-server-slack",
        env={"SLACK_BOT_TOKEN": DUMMY, "SLACK_TEAM_ID": "T000"},
    ),
    Server(
        "@modelcontextprotocol/server-gitlab",
        "npm",
        "mcp-server-gitlab",
        env={"GITLAB_PERSONAL_ACCESS_TOKEN": DUMMY},
    ),
    Server(
        "@modelcontextprotocol/server-google-maps",
        "npm",
        "mcp-server-google-maps",
        env={"GOOGLE_MAPS_API_KEY": DUMMY},
    ),
    Server(
        "@modelcontextprotocol/server-aws-kb-retrieval",
        "npm",
        "mcp-server-aws-kb-retrieval",
        env={"AWS_ACCESS_KEY_ID": DUMMY, "AWS_SECRET_ACCESS_KEY": DUMMY, "AWS_REGION": "us-east-1"},
    ),
    Server(
        "@modelcontextprotocol/server-everart", "npm", "mcp-server-everart", env={"EVERART_API_KEY": DUMMY}
    ),
    Server(
        "@modelcontextprotocol/server-postgres",
        "npm",
        "mcp-server-postgres",
        ("postgresql://127.0.0.1:1/none",),
    ),
    Server("@modelcontextprotocol/server-puppeteer", "npm", "mcp-server-puppeteer"),
    Server("@playwright/mcp", "npm", "playwright-mcp"),
    Server("@upstash/context7-mcp", "npm", "context7-mcp"),
    Server("@antv/mcp-server-chart", "npm", "mcp-server-chart"),
    Server("tavily-mcp", "npm", "tavily-mcp", env={"TAVILY_API_KEY": DUMMY}),
    Server("firecrawl-mcp", "npm", "firecrawl-mcp", env={"FIRECRAWL_API_KEY": DUMMY}),
    Server("@notionhq/notion-mcp-server", "npm", "notion-mcp-server", env={"NOTION_TOKEN": DUMMY}),
    Server("@wonderwhy-er/desktop-commander", "npm", "desktop-commander"),
    Server("mcp-server-kubernetes", "npm", "mcp-server-kubernetes"),
    Server("chrome-devtools-mcp", "npm", "chrome-devtools-mcp"),
    Server("@agent-infra/mcp-server-commands", "npm", "mcp-server-commands"),
    Server("@sentry/mcp-server", "npm", "sentry-mcp", ("--access-token", DUMMY)),
    Server("@heroku/mcp-server", "npm", "heroku-mcp-server", env={"HEROKU_API_KEY": DUMMY}),
    Server("@hubspot/mcp-server", "npm", "mcp-hubspot", env={"PRIVATE_APP_ACCESS_TOKEN": DUMMY}),
    Server(
        "@supabase/mcp-server-supabase",
        "npm",
        "mcp-server-supabase",
        ("--access-token", DUMMY),
        env={"SUPABASE_ACCESS_TOKEN": DUMMY},
    ),
    Server("@azure-devops/mcp", "npm", "mcp-server-azuredevops", ("example-org",)),
    Server("@modelcontextprotocol/server-redis", "npm", "mcp-server-redis", ("redis://127.0.0.1:1",)),
    Server(
        "@modelcontextprotocol/server-gdrive",
        "npm",
        "mcp-server-gdrive",
        env={"GDRIVE_CREDENTIALS_PATH": "{scratch}/gdrive.json", "GDRIVE_OAUTH_PATH": "{scratch}/oauth.json"},
    ),
    Server("@executeautomation/playwright-mcp-server", "npm", "playwright-mcp-server"),
    Server("mongodb-mcp-server", "npm", "mongodb-mcp-server"),
    Server(
        "@elastic/mcp-server-elasticsearch",
        "npm",
        "mcp-server-elasticsearch",
        env={"ES_URL": "http://127.0.0.1:1", "ES_API_KEY": DUMMY},
    ),
    Server("@mapbox/mcp-server", "npm", "mcp-server", env={"MAPBOX_ACCESS_TOKEN": "pk." + DUMMY}),
    Server(
        "@stripe/mcp", "npm", "../@stripe/mcp/dist/index.js", ("--tools=all", f"--api-key=sk_test_{DUMMY}")
    ),
    Server(
        "@circleci/mcp-server-circleci",
        "npm",
        "../@circleci/mcp-server-circleci/dist/index.js",
        env={"CIRCLECI_TOKEN": DUMMY},
    ),
    Server("exa-mcp-server", "npm", "../exa-mcp-server/dist/stdio.cjs", env={"EXA_API_KEY": DUMMY}),
    Server(
        "@browserbasehq/mcp-server-browserbase",
        "npm",
        "../@browserbasehq/mcp-server-browserbase/cli.js",
        env={"BROWSERBASE_API_KEY": DUMMY, "BROWSERBASE_PROJECT_ID": DUMMY},
    ),
    Server(
        "@kimtaeyoon83/mcp-server-youtube-transcript",
        "npm",
        "../@kimtaeyoon83/mcp-server-youtube-transcript/dist/index.js",
    ),
    Server(
        "@benborla29/mcp-server-mysql",
        "npm",
        "../@benborla29/mcp-server-mysql/dist/index.js",
        env={"MYSQL_HOST": "127.0.0.1", "MYSQL_PORT": "1", "MYSQL_USER": "u", "MYSQL_PASS": DUMMY},
    ),
    Server(
        "@gongrzhe/server-gmail-autoauth-mcp", "npm", "../@gongrzhe/server-gmail-autoauth-mcp/dist/index.js"
    ),
    Server("@railway/mcp-server", "npm", "../@railway/mcp-server/index.js"),
    Server(
        "@aashari/mcp-server-atlassian-jira",
        "npm",
        "../@aashari/mcp-server-atlassian-jira/dist/index.js",
        env={
            "ATLASSIAN_SITE_NAME": "example",
            "ATLASSIAN_USER_EMAIL": "u@example.com",
            "ATLASSIAN_API_TOKEN": DUMMY,
        },
    ),
    Server(
        "@aashari/mcp-server-atlassian-bitbucket",
        "npm",
        "../@aashari/mcp-server-atlassian-bitbucket/dist/index.js",
        env={"ATLASSIAN_USER_EMAIL": "u@example.com", "ATLASSIAN_API_TOKEN": DUMMY},
    ),
    Server(
        "@pinecone-database/mcp",
        "npm",
        "../@pinecone-database/mcp/dist/index.js",
        env={"PINECONE_API_KEY": DUMMY},
    ),
    Server("@brightdata/mcp", "npm", "../@brightdata/mcp/server.js", env={"API_TOKEN": DUMMY}),
    Server(
        "@apify/actors-mcp-server",
        "npm",
        "../@apify/actors-mcp-server/dist/stdio.js",
        env={"APIFY_TOKEN": DUMMY},
    ),
    Server("@agent-infra/mcp-server-browser", "npm", "../@agent-infra/mcp-server-browser/dist/index.cjs"),
    Server(
        "@agent-infra/mcp-server-filesystem",
        "npm",
        "../@agent-infra/mcp-server-filesystem/dist/index.cjs",
        ("--allowed-directories", "{scratch}"),
    ),
    Server("mcp-server-code-runner", "npm", "../mcp-server-code-runner/dist/cli.js"),
    Server(
        "@perplexity-ai/mcp-server",
        "npm",
        "../@perplexity-ai/mcp-server/dist/index.js",
        env={"PERPLEXITY_API_KEY": DUMMY},
    ),
    Server("@currents/mcp", "npm", "../@currents/mcp/build/index.js", env={"CURRENTS_API_KEY": DUMMY}),
    Server("mcp-server-fetch", "pypi", "mcp-server-fetch"),
    Server("mcp-server-git", "pypi", "mcp-server-git"),
    Server("mcp-server-time", "pypi", "mcp-server-time"),
    Server("mcp-server-sqlite", "pypi", "mcp-server-sqlite", ("--db-path", "{scratch}/db.sqlite3")),
    Server("duckduckgo-mcp-server", "pypi", "duckduckgo-mcp-server"),
    Server("arxiv-mcp-server", "pypi", "arxiv-mcp-server", ("--storage-path", "{scratch}")),
    Server("mcp-server-calculator", "pypi", "mcp-server-calculator"),
    Server(
        "mcp-server-qdrant",
        "pypi",
        "mcp-server-qdrant",
        env={"QDRANT_LOCAL_PATH": "{scratch}/qdrant", "COLLECTION_NAME": "c"},
    ),
    Server(
        "mcp-atlassian",
        "pypi",
        "mcp-atlassian",
        env={
            "JIRA_URL": "https://example.atlassian.net",
            "JIRA_USERNAME": "u",
            "JIRA_API_TOKEN": DUMMY,
            "CONFLUENCE_URL": "https://example.atlassian.net/wiki",
            "CONFLUENCE_USERNAME": "u",
            "CONFLUENCE_API_TOKEN": DUMMY,
        },
    ),
)


def package_version(server: Server, prefix: Path) -> str:
    if server.ecosystem == "npm":
        meta = json.loads((prefix / "node_modules" / server.package / "package.json").read_text())
        return str(meta["version"])
    site = next((prefix / "venv" / "lib").glob("python*/site-packages"))
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
        script = prefix / "node_modules" / ".bin" / server.entry
        return StdioServerParameters(command=node, args=[str(script.resolve()), *args], env=env)
    return StdioServerParameters(command=str(prefix / "venv" / "bin" / server.entry), args=args, env=env)


async def list_tools(params: StdioServerParameters, timeout: float) -> list[dict[str, Any]]:
    tools: list[dict[str, Any]] = []
    with anyio.fail_after(timeout), open(os.devnull, "w") as devnull:
        async with (
            stdio_client(params, errlog=devnull) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            cursor: str | None = None
            while True:
                page = await session.list_tools(cursor=cursor) if cursor else await session.list_tools()
                tools.extend(t.model_dump(mode="json", exclude_none=True, by_alias=True) for t in page.tools)
                cursor = page.nextCursor
                if not cursor:
                    break
    return tools


async def main_async(args: argparse.Namespace) -> int:
    prefix = Path(args.prefix)
    scratch = Path(args.scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for server in SERVERS:
        if args.only and server.package not in args.only:
            continue
        try:
            version = package_version(server, prefix)
            tools = await list_tools(params_for(server, prefix, args.node, scratch), args.timeout)
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
    rows.sort(key=lambda r: (r["package"], r["tool"].get("name", "")))
    with open(args.out, "w", encoding="utf-8") as fh:
        for i, row in enumerate(rows):
            fh.write(json.dumps({"id": f"real-{i:04d}", **row}, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"wrote {len(rows)} tools to {args.out}", file=sys.stderr)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", default="/tmp/mcp-corpus", help="npm --prefix with a venv/ inside")
    parser.add_argument("--scratch", default="/tmp/mcp-corpus/scratch", help="HOME and data dir for servers")
    parser.add_argument("--node", default=shutil.which("node") or "node_modules/.bin/node")
    parser.add_argument("--out", default="tests/data/real_tools.jsonl")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--only", nargs="*", help="package names to collect (default: all)")
    parser.add_argument("--keep", help="earlier dump whose rows are kept for packages that fail to start now")
    return anyio.run(main_async, parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
