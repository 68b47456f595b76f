"""Cost of `scan_text` by input size: the whole text is scanned, so cost must grow linearly.

Benign text (the generated corpus's tool-output rows, joined) of 1 KB, 10 KB, 100 KB and
1 MB is scanned repeatedly on one thread; prints median and p95 latency, median cost per
KB, the ratio of per-KB cost at each size to the 1 KB cost (1.0 = perfectly linear), and
resident memory with the model loaded and after the largest scan.

Usage: nice -n 10 .venv/bin/python bench/detect_cost.py
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mcpwarden.detect.text import scan_text  # noqa: E402
from mcpwarden.detect.text.model import default_model  # noqa: E402

SIZES = ((1_024, 200), (10_240, 60), (102_400, 10), (1_048_576, 3))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _corpus() -> str:
    path = ROOT / "data" / "injection" / "generated.jsonl"
    rows = [json.loads(line) for line in path.read_text("utf-8").split("\n") if line]
    return "\n\n".join(r["text"] for r in rows if not r["label"] and r["carrier"] != "user_prompt")


def main() -> int:
    base = _rss_mb()
    default_model()
    print(f"resident memory: {base:.0f} MB before the model, {_rss_mb():.0f} MB with it loaded")
    corpus = _corpus()
    per_kb_1k = None
    for size, repeat in SIZES:
        text = (corpus * (1 + size // len(corpus)))[:size]
        scan_text(text)
        times = []
        for i in range(repeat):
            start = time.perf_counter()
            scan_text(text[i % 7 :] + text[: i % 7])  # rotate so no two runs see the same text
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        p95 = sorted(times)[min(len(times) - 1, int(0.95 * len(times)))]
        per_kb = median / (size / 1024)
        per_kb_1k = per_kb_1k or per_kb
        print(
            f"{size // 1024:5d} KB: median {median * 1e3:8.2f} ms  p95 {p95 * 1e3:8.2f} ms  "
            f"{per_kb * 1e3:.3f} ms/KB  (x{per_kb / per_kb_1k:.2f} the 1 KB cost per KB)"
        )
    print(f"resident memory after the 1 MB scans: {_rss_mb():.0f} MB (peak)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
