"""`mcpwarden detect`: score JSONL rows of text for prompt injection.

The contract (design section 4) is relied on by external evaluation: one output row per
input row, `{"id", "score", "flagged", "findings"}`, in input order; exit 0 whenever the
input could be processed (flagged rows are data, not failure) and 2 with a message for
usage or input errors. The whole input is validated before anything is written, so a
bad line never leaves a half-written output file behind.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mcpwarden.cli import EXIT_OK, UsageError
from mcpwarden.commands.jsonl_io import read_rows, write_rows

# The detector's channels, spelled out rather than imported: `--help` must not load the model
# package (tests/unit/cli/test_cli_startup.py); a test checks they match `detect.text.CHANNELS`.
CHANNELS = ("tool_result", "prompt")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "detect",
        help="score JSONL text rows for prompt injection",
        description="Read JSONL rows with an id and a text field; write one verdict per row.",
    )
    parser.add_argument(
        "--input", metavar="FILE.jsonl", help="rows with `id` and a text field (default: stdin)"
    )
    parser.add_argument("--field", default="text", help="name of the text field (default: text)")
    parser.add_argument("--output", metavar="OUT.jsonl", help="where to write verdicts (default: stdout)")
    parser.add_argument(
        "--channel",
        choices=CHANNELS,
        default="tool_result",
        help="where the rows would reach a model: tool_result (text an upstream returns: tool "
        "results, resource reads; the default) or prompt (prompts and sampling messages, "
        "instructions by design); picks the default threshold",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        metavar="T",
        help="flag rows scoring at or above T, in [0, 1] (default: the channel's operating point, "
        "chosen at training for 1%% false positives on held-out benign text of that channel; "
        "2%% for prompts)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mcpwarden.detect.text import default_threshold, scan_text

    channel = args.channel
    threshold = default_threshold(channel) if args.threshold is None else float(args.threshold)
    if not 0.0 <= threshold <= 1.0:
        raise UsageError(f"--threshold must be between 0 and 1, got {threshold}")
    rows = read_rows(Path(args.input) if args.input else None, args.field, str, "a string")
    write_rows(
        (
            {"id": row_id, **scan_text(text, threshold=threshold, channel=channel).to_dict()}
            for row_id, text in rows
        ),
        args.output,
    )
    return EXIT_OK
