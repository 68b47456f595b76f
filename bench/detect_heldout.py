"""The shipped text injection model on committed rows it is never trained on.

`data/injection/handwritten-heldout.jsonl` (hand-written user prompts full of trigger words and
benign text in eight languages, all negatives) and `data/injection/handwritten.jsonl`
(hand-written quiet, embedded, direct and non-English attacks and benign hard negatives) are not
in `manifest.json`, so no build reads them: every shipped model, before or after a data change,
meets them unseen. Prints the flag rate at the model's own per-channel flag threshold, per
family, language and carrier. Any JSON-lines file with the training row schema can be given
instead.

Usage: .venv/bin/python bench/detect_heldout.py [PATH ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mcpwarden.detect.text.model import default_model  # noqa: E402
from mcpwarden.detect.text.scan import scan_text  # noqa: E402

DEFAULT = [
    ROOT / "data" / "injection" / "handwritten.jsonl",
    ROOT / "data" / "injection" / "handwritten-heldout.jsonl",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=DEFAULT)
    args = parser.parse_args()
    model = default_model()
    groups: dict[str, list[bool]] = defaultdict(list)
    for path in args.paths:
        for line in path.read_text("utf-8").split("\n"):
            if not line.strip():
                continue
            row = json.loads(line)
            channel = "prompt" if row["carrier"] == "user_prompt" else "tool_result"
            flagged = scan_text(row["text"], model=model, channel=channel).flagged
            label = "attack" if row["label"] else "benign"
            for key in (
                f"{label} all",
                f"{label} family={row.get('family', '?')}",
                f"{label} lang={row['lang']}",
                f"{label} carrier={row['carrier']}",
            ):
                groups[key].append(flagged)
    for key in sorted(groups):
        flags = groups[key]
        rate = sum(flags) / len(flags)
        what = "TPR" if key.startswith("attack") else "FPR"
        print(f"{key:40s} n={len(flags):4d}  {what}={rate:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
