# ruff: noqa: E501  (row-building calls read better on one line)
"""Write data/injection/generated.jsonl: the project's own benign carriers and attacks.

Deterministic (fixed seed, no input files): rerunning it reproduces the committed file
byte for byte, which `tests/unit/detect_text/test_training.py` checks. Rows follow the
schema of the shared data set (id, text, label, kind, carrier, source) plus `family`
(the unit of leave-one-source-out evaluation), `lang` and, for attacks embedded in a
carrier, `payload` (the attack text, so training can label the segments it occupies).

Usage: .venv/bin/python scripts/build_injection_corpus.py [--out PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus_attacks as attacks
import corpus_benign as benign

SEED = 20261207
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "data" / "injection" / "generated.jsonl"
BENIGN_PER_CARRIER = 160
INDIRECT_PER_LANG_STYLE = 6  # 9 languages x 9 styles x 6 = 486 embedded attacks, plus English extra
ENGLISH_EXTRA = 40  # per English style: English is what most carriers are written in
DIRECT_PER_LANG = 24
STYLE_GROUPS = {
    "bare": "plain", "polite": "plain", "note": "addressed", "conditional": "addressed",
    "authority": "authority", "continuation": "authority", "stealth": "marked", "override": "marked",
    "system": "marked",
}  # fmt: skip
HARD_NEGATIVE_CARRIERS = {"security_article", "log"}
TOOL_CARRIERS = [c for c in benign.CARRIERS if c not in {"user_prompt", "security_article", "json_leaf"}]


def _embed(rng: random.Random, carrier: str, host: str, payload: str) -> str:
    """Put `payload` where that carrier would hold text: a paragraph, a cell, a comment, a field."""
    lines = host.split("\n")
    at = rng.randrange(1, len(lines) + 1) if len(lines) > 1 else len(lines)
    if carrier == "table":
        if lines[0].startswith("|"):
            cells = [str(rng.randint(1, 30)), rng.choice(benign.NAMES), rng.choice(benign.TEAMS)]
            cells.append(f"{rng.randint(10, 9000)}.{rng.randint(0, 99):02d}")
            row = "| " + " | ".join([*cells, payload]) + " |"
        else:
            cells = [str(rng.randint(1, 30)), rng.choice(benign.NAMES), rng.choice(benign.TEAMS)]
            cells.append(f"{rng.randint(10, 9000)}.{rng.randint(0, 99):02d}")
            row = ",".join([*cells, f'"{payload}"' if "," in payload else payload])
        lines.insert(max(2, at), row)
        return "\n".join(lines)
    if carrier == "code":
        lines.insert(at, f"    # {payload}" if rng.random() < 0.5 else f"+  // {payload}")
        return "\n".join(lines)
    if carrier == "web":
        wrapper = rng.choice(
            ["<p>{}</p>", '<div style="display:none">{}</div>', "<!-- {} -->", "<p><small>{}</small></p>"]
        )
        lines.insert(at, wrapper.format(payload))
        return "\n".join(lines)
    if carrier == "log":
        stamp = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        level = rng.choice(["INFO", "WARN", "ERROR", "DEBUG"])
        lines.insert(at, f"{stamp}:{rng.randint(0, 59):02d}Z {level} [{rng.choice(benign.TEAMS)}] {payload}")
        return "\n".join(lines)
    if carrier == "api_json":
        obj = json.loads(host)
        obj["message"] = payload
        return json.dumps(obj, ensure_ascii=False, indent=rng.choice([None, 2]))
    if carrier == "chat":
        lines.insert(at, f"[11:{rng.randint(0, 59):02d}] {rng.choice(benign.NAMES)}: {payload}")
        return "\n".join(lines)
    if carrier == "email":
        at = max(at, 4)  # after the headers
    lines.insert(at, "\n" + payload + "\n")
    return "\n".join(lines)


def _row(
    text: str, label: int, kind: str, carrier: str, family: str, lang: str, **extra: Any
) -> dict[str, Any]:
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
    return {
        "id": f"gen-{digest}", "text": text, "label": label, "kind": kind, "carrier": carrier,
        "source": "mcpwarden:scripts/build_injection_corpus.py", "family": family, "lang": lang, **extra,
    }  # fmt: skip


def build() -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    rows: list[dict[str, Any]] = []
    for carrier, make in benign.CARRIERS.items():
        for _ in range(BENIGN_PER_CARRIER):
            text = make(rng)
            kind = "hard_negative" if carrier in HARD_NEGATIVE_CARRIERS else "benign"
            rows.append(
                _row(
                    text,
                    0,
                    kind,
                    carrier,
                    f"gen-benign-{carrier}",
                    "mixed" if carrier == "docs_i18n" else "en",
                )
            )
    plan = [(lang, style, INDIRECT_PER_LANG_STYLE) for lang in attacks.LANGS for style in attacks.STYLES]
    plan += [("en", style, ENGLISH_EXTRA) for style in attacks.STYLES]
    for lang, style, count in plan:
        family = f"gen-attack-en-{STYLE_GROUPS[style]}" if lang == "en" else f"gen-attack-{lang}"
        for _ in range(count):
            payload, goal, _, _ = attacks.attack(rng, lang=lang, style=style)
            carrier = rng.choice(TOOL_CARRIERS)
            text = _embed(rng, carrier, benign.CARRIERS[carrier](rng), payload)
            rows.append(
                _row(text, 1, "indirect", carrier, family, lang, payload=payload, goal=goal, style=style)
            )
    for lang in attacks.LANGS:
        for _ in range(DIRECT_PER_LANG):
            payload, goal, _, style = attacks.attack(rng, lang=lang)
            family = f"gen-attack-en-{STYLE_GROUPS[style]}" if lang == "en" else f"gen-attack-{lang}"
            rows.append(
                _row(
                    payload, 1, "direct", "user_prompt", family, lang, payload=payload, goal=goal, style=style
                )
            )
    seen: set[str] = set()
    unique = []
    for row in rows:
        if row["text"] not in seen:
            seen.add(row["text"])
            unique.append(row)
    return unique


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    rows = build()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows), "utf-8"
    )
    manifest_path = args.out.parent / "manifest.json"
    if manifest_path.is_file():  # keep the pin in step with the file just written
        manifest = json.loads(manifest_path.read_text("utf-8"))
        if args.out.name in manifest.get("files", {}):
            manifest["files"][args.out.name] = hashlib.sha256(args.out.read_bytes()).hexdigest()
            manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", "utf-8")
    labels = sum(r["label"] for r in rows)
    print(f"wrote {args.out}: {len(rows)} rows ({labels} attacks)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
