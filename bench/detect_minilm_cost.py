"""Latency and memory of the cascade (linear + MiniLM tier) against the linear tier alone.

Both are timed in the same run, on one thread (onnxruntime with one intra-op thread, as the
gateway runs it), with the small model's content-hash cache cleared before every scan, so
every number is a first sighting of the text:

* a sample of the committed corpus's rows (all carriers, benign and attacks): p50 and p95
  latency, p50 per KB, and the share of rows the cascade sent to the model (its band);
* benign tool output joined to 1 KB and 10 KB (as `detect_cost.py`), and 10 KB texts whose
  linear score falls inside the band (the worst case: every such text costs model windows);
* resident memory (max RSS) after loading the linear model, then the small model, then
  after all scans.

Usage: nice -n 10 .venv/bin/python bench/detect_minilm_cost.py [--rows N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mcpwarden.detect.text import scan_text  # noqa: E402
from mcpwarden.detect.text.minilm import SmallModel, default_small_model  # noqa: E402
from mcpwarden.detect.text.model import default_model  # noqa: E402


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rows() -> list[dict[str, object]]:
    rows = []
    for name in ("generated.jsonl", "shared-train.jsonl"):
        path = ROOT / "data" / "injection" / name
        rows += [json.loads(line) for line in path.read_text("utf-8").split("\n") if line]
    return rows


def _time(text: str, small: SmallModel | None) -> float:
    if small is not None:
        small._cache.clear()
    start = time.perf_counter()
    scan_text(text, small_model=small)
    return (time.perf_counter() - start) * 1000


def _stats(times: list[float], texts: list[str]) -> dict[str, float]:
    per_kb = [t / max(len(x) / 1024, 0.001) for t, x in zip(times, texts, strict=True)]
    ordered = sorted(times)
    return {
        "p50_ms": round(statistics.median(times), 3),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
        "p50_ms_per_kb": round(statistics.median(per_kb), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400)
    args = parser.parse_args()
    base = _rss_mb()
    default_model()
    linear_rss = _rss_mb()
    small = default_small_model()
    small_rss = _rss_mb()
    rng = random.Random(20261207)
    rows = _rows()
    sample = [str(r["text"]) for r in rng.sample(rows, args.rows)]
    benign = "\n\n".join(str(r["text"]) for r in rows if not r["label"] and r["carrier"] != "user_prompt")
    band = small.cascade.bands["tool_result"]
    in_band = [t for t in sample if band.contains(scan_text(t).score)]
    long_band = []
    for r in rows:
        if len(long_band) >= 20:
            break
        if not r["label"] and len(str(r["text"])) > 200:
            text = (str(r["text"]) + "\n\n" + benign[:12_000])[:10_240]
            if band.contains(scan_text(text).score):
                long_band.append(text)
    sets = {
        "corpus rows": sample,
        "benign 1 KB": [benign[i * 1024 : (i + 1) * 1024] for i in range(100)],
        "benign 10 KB": [benign[i * 10_240 : (i + 1) * 10_240] for i in range(40)],
        "10 KB in the band": long_band,
    }
    out: dict[str, object] = {"in_band_share_of_corpus_rows": round(len(in_band) / len(sample), 3)}
    for name, texts in sets.items():
        if not texts:
            continue
        for t in texts[:5]:  # warm up both paths
            _time(t, None)
            _time(t, small)
        linear = [_time(t, None) for t in texts]
        cascade = [_time(t, small) for t in texts]
        lin, cas = _stats(linear, texts), _stats(cascade, texts)
        out[name] = {
            "n": len(texts),
            "linear": lin,
            "cascade": cas,
            "ratio_p50": round(cas["p50_ms"] / lin["p50_ms"], 2),
            "ratio_p95": round(cas["p95_ms"] / lin["p95_ms"], 2),
        }
    out["rss_mb"] = {
        "start": round(base, 1),
        "linear_loaded": round(linear_rss, 1),
        "small_loaded": round(small_rss, 1),
        "after_scans": round(_rss_mb(), 1),
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
