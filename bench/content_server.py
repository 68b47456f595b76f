"""A small SDK server for the content benchmark: `document(size)` returns ordinary prose.

Run: python bench/content_server.py --transport http --port N
The prose is deterministic (the same size gives the same text), made of sentences from a
fixed list, so the injection scanner works on realistic text rather than one long run of
a single character.
"""

from __future__ import annotations

import argparse

from mcp.server.mcpserver import MCPServer

SENTENCES = (
    "The quarterly report lists revenue, costs and the forecast for the next period.",
    "Meeting notes: the team agreed to move the release to the second week of March.",
    "Customers in the northern region renewed their contracts at a higher rate than last year.",
    "The build failed twice because a dependency was pinned to an older minor version.",
    "Please review the attached draft and send comments before Friday afternoon.",
    "Shipping times improved after the warehouse changed its packing schedule.",
)


def prose(size: int) -> str:
    parts: list[str] = []
    total = 0
    i = 0
    while total < size:
        s = SENTENCES[i % len(SENTENCES)]
        parts.append(s)
        total += len(s) + 1
        i += 1
    return " ".join(parts)[:size]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", default="stdio", choices=["stdio", "http"])
    parser.add_argument("--port", type=int, default=0)
    opts = parser.parse_args()
    mcp = MCPServer("content-bench")

    @mcp.tool()
    def document(size: int) -> str:
        """Return `size` characters of ordinary prose."""
        return prose(size)

    if opts.transport == "http":
        mcp.run("streamable-http", host="127.0.0.1", port=opts.port or 8000)
    else:
        mcp.run("stdio")


if __name__ == "__main__":
    main()
