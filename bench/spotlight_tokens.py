"""Tokens that spotlighting adds to a result, per mode and number of text items.

No tokenizer is installed in the project, so tokens are approximated as the pieces a
simple pre-tokenizer makes: runs of word characters, and each other non-space character
on its own (`\\w+|[^\\w\\s]`). Real BPE tokenizers split long random boundaries into more
pieces, so the absolute numbers are a lower bound; the comparison between one preamble
per result and one per item is what matters.

Usage: .venv/bin/python bench/spotlight_tokens.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mcpwarden.detect.text.spotlight import MODES, Spotlight, spotlight_content  # noqa: E402

# The datamark (U+02C6) is a letter to `\w`, so it is matched as a piece of its own first.
PIECES = re.compile(r"\u02c6|[^\W\u02c6]+|[^\w\s]")
ITEM = "Row {i}: the quarterly report lists revenue, costs and the forecast for the next period."


def tokens(text: str) -> int:
    return len(PIECES.findall(text))


def added(content: list[dict[str, str]], marked: list[dict[str, str]]) -> int:
    return sum(tokens(m["text"]) for m in marked) - sum(tokens(c["text"]) for c in content)


def main() -> None:
    print("| mode | text items | tokens added per result (one preamble) | with a preamble per item |")
    print("|---|---:|---:|---:|")
    for mode in MODES:
        if mode == "encode":
            continue  # re-encodes the text itself: the added cost is the encoding, not the preamble
        for n in (1, 5, 20):
            content = [{"type": "text", "text": ITEM.format(i=i)} for i in range(n)]
            once = added(content, spotlight_content(content, mode))
            each = added(content, [{**c, "text": Spotlight(mode).mark(c["text"])} for c in content])
            print(f"| {mode} | {n} | {once} | {each} |")


if __name__ == "__main__":
    main()
