"""Where the default guards' CPU goes on one small tools/call, stage by stage.

In process, with the real objects the gateway builds: the content scan's stages
(normalization, injection rules, model features and scoring, secrets, PII), the whole
`ContentGuard.tool_result` hook (spotlighting off), the pinning guard's freshness check
and use check, the poisoning guard's call check, and the two audit records a call writes
(sealing: serialization and hashing; and the write itself, `fsync: interval`). Each stage
runs `--repeats` times in interleaved rounds and reports its median time per call, then
one cProfile summary of the whole per-call sequence shows where the time goes inside.

    nice -n 10 .venv/bin/python bench/profile_guards.py [--size 200] [--repeats 2000] [--top 25]

The result's text is ordinary prose made of varied sentences (`content_server.prose`).
Stages marked "before" run code that was replaced, in the same rounds: "span dicts", each
segment's and window's margin from its own feature dict and the model's dot product
(`TokenTable.extract`) instead of read from the token table (`span_margins`); "no token
table", the features computed per window and per segment from their own text
(`features.extract`); and pin freshness asked of SQLite (`PRAGMA data_version`) instead of
read from the WAL-index header.

The numbers are this process's CPU time (`time.process_time_ns`: time spent waiting for a
core on a loaded machine is not counted, the audit writer's own thread is) per call, on this
machine with whatever else runs on it; compare stages within one run, not across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from content_server import prose  # noqa: E402

from mcpwarden.audit.canonical import to_plain_json  # noqa: E402
from mcpwarden.audit.chain import seal  # noqa: E402
from mcpwarden.audit.jsonl import AuditLog  # noqa: E402
from mcpwarden.detect.text import features as F  # noqa: E402
from mcpwarden.detect.text import find_pii, find_secrets, scan, scan_text  # noqa: E402
from mcpwarden.detect.text.features import segments  # noqa: E402
from mcpwarden.detect.text.model import default_model  # noqa: E402
from mcpwarden.detect.text.normalize import normalize  # noqa: E402
from mcpwarden.detect.text.rules import match_rules  # noqa: E402
from mcpwarden.detect.text.span_margins import fast_margin, segment_margins, weights_of  # noqa: E402
from mcpwarden.detect.text.token_table import TokenTable  # noqa: E402
from mcpwarden.guards.content import ContentGuard, ContentPolicy  # noqa: E402
from mcpwarden.guards.pinning import PinningGuard  # noqa: E402
from mcpwarden.guards.poisoning import PoisoningGuard  # noqa: E402
from mcpwarden.store import SQLiteStore  # noqa: E402
from mcpwarden.types import Exchange  # noqa: E402

TOOL = {
    "name": "echo",
    "description": "Echo the given text back to the caller.",
    "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
}


class ReferenceTable:
    """The features as computed before the token table: each span tokenized on its own."""

    layout = None  # so the span-margin fast path steps aside too

    def __init__(self, text: str) -> None:
        self.text = text

    def extract(self, start: int, end: int, hits: Any, *, embedded: bool = False) -> dict[int, float]:
        return F.extract(self.text[start:end], hits, embedded=embedded)


def before(fn: Callable[[], object]) -> Callable[[], object]:
    """`fn` run with the reference features in place of the token table."""

    def run() -> object:
        fast, scan.TokenTable = scan.TokenTable, ReferenceTable  # type: ignore[misc, assignment]
        try:
            return fn()
        finally:
            scan.TokenTable = fast  # type: ignore[misc]

    return run


def dict_spans(fn: Callable[[], object]) -> Callable[[], object]:
    """`fn` with every span's margin from its feature dict and the model's dot product
    (`TokenTable.extract`), as before `span_margins` read margins from the table directly."""

    def run() -> object:
        fast, batch = scan.fast_margin, scan.segment_margins
        scan.fast_margin = lambda *_a, **_k: None  # type: ignore[assignment]
        scan.segment_margins = lambda _t, spans, *_a: [None] * len(spans)  # type: ignore[assignment]
        try:
            return fn()
        finally:
            scan.fast_margin, scan.segment_margins = fast, batch  # type: ignore[assignment]

    return run


def small_result(size: int) -> dict[str, Any]:
    """A tools/call result of about `size` bytes of ordinary prose, as FastMCP returns it."""
    text = prose(size)
    return {
        "content": [{"type": "text", "text": text}],
        "structuredContent": {"result": text},
        "isError": False,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=200, help="characters of text in the result")
    ap.add_argument("--repeats", type=int, default=2000)
    ap.add_argument("--top", type=int, default=25, help="cProfile rows to print")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="profile-guards-"))
    result = small_result(args.size)
    text = result["content"][0]["text"]
    model = default_model()
    threshold = model.flag_threshold("tool_result")
    store = SQLiteStore(tmp / "state.db")
    pinning = PinningGuard(store, {"bench": "tofu"})
    poisoning = PoisoningGuard({"bench": "quarantine"})
    content = ContentGuard({"bench": ContentPolicy(spotlight="never")})
    audit = AuditLog(tmp / "audit.jsonl", fsync="interval")
    ex = Exchange("tools/call", "bench", session_id="s1", request_id=7, tool="echo")
    listing = Exchange("tools/list", "bench", session_id="s1", request_id=6)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(poisoning.tools_list(listing, {"tools": [TOOL]}))
    loop.run_until_complete(pinning.tools_list(listing, {"tools": [TOOL]}))
    params = {"name": "echo", "arguments": {"text": "ping"}}
    start = {
        "event": "request.start",
        "session": "s1",
        "upstream": "bench",
        "method": "tools/call",
        "tool": "echo",
    }
    end = {**start, "event": "request", "decision": "allow", "latency_ms": 1.234, "response_bytes": 512}
    norm = normalize(text)

    doc_weights, seg_weights = weights_of(model)

    def margins() -> object:
        # What `scan` does per text for the learned tier: tokenize once, then every segment's
        # and the window's margin (the prose holds no rule hit, so every span is "clean").
        table = TokenTable(norm.text)
        spans = segments(norm.text)
        seg = segment_margins(table, spans, [True] * len(spans), seg_weights, {})
        return seg, fast_margin(table, 0, len(norm.text), doc_weights, embedded=False, segment=False)

    def seal_both() -> None:
        for record in (start, end):
            seal({**to_plain_json(record), "chain": "c" * 32, "seq": 1, "prev": "0" * 64})

    async def guarded_call() -> None:
        # The hooks one tools/call runs, awaited in one task as the gateway does.
        await poisoning.tool_call(ex, params)
        await pinning.tool_call(ex, params)
        audit.write(start)
        await content.tool_result(ex, result)
        audit.write(end)

    def call() -> None:
        loop.run_until_complete(guarded_call())

    stages: dict[str, Callable[[], object]] = {
        "content: normalization": lambda: normalize(text),
        "content: injection rules": lambda: match_rules(norm.text),
        "content: token table + model margins": margins,
        "content: scan_text (all of the above)": lambda: scan_text(text, threshold=threshold),
        "content: scan_text, span dicts (before)": dict_spans(lambda: scan_text(text, threshold=threshold)),
        "content: scan_text, no token table (before that)": before(
            lambda: scan_text(text, threshold=threshold)
        ),
        "content: secrets": lambda: find_secrets(text),
        "content: PII (off by default)": lambda: find_pii(text),
        "content: ContentGuard.tool_result": lambda: loop.run_until_complete(content.tool_result(ex, result)),
        "content: ContentGuard.tool_result, span dicts (before)": dict_spans(
            lambda: loop.run_until_complete(content.tool_result(ex, result))
        ),
        "pinning: freshness (store.revision, WAL-index header)": store.revision,
        "pinning: freshness, before (PRAGMA data_version)": lambda: store._conn.execute(
            "PRAGMA data_version"
        ).fetchone(),
        "pinning: tool_call": lambda: loop.run_until_complete(pinning.tool_call(ex, params)),
        "poisoning: tool_call": lambda: loop.run_until_complete(poisoning.tool_call(ex, params)),
        "audit: seal 2 records (serialize + hash)": seal_both,
        "audit: write 2 records": lambda: (audit.write(start), audit.write(end)),
        "one call, every default guard": call,
        "one call, every default guard, span dicts (before)": dict_spans(call),
    }
    times: dict[str, list[float]] = {name: [] for name in stages}
    for fn in stages.values():
        fn()  # warm caches and lazy imports
    rounds = 10
    per_round = max(1, args.repeats // rounds)
    for _ in range(rounds):
        for name, fn in stages.items():
            t0 = time.process_time_ns()
            for _ in range(per_round):
                fn()
            times[name].append((time.process_time_ns() - t0) / per_round / 1000)

    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    print(
        f"{args.size}-character tools/call result, {rounds} rounds x {per_round} calls; "
        f"load average {' '.join(load)}"
    )
    print()
    print("| stage | median µs per call | min µs |")
    print("|---|---:|---:|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.1f} | {min(values):.1f} |")

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(per_round * 2):
        call()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(args.top)
    print()
    print(f"cProfile of {per_round * 2} calls (every default guard), by own time:")
    print(out.getvalue())
    audit.close()
    store.close()
    loop.close()


if __name__ == "__main__":
    main()
