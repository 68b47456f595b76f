"""Write data/injection/real-prompts.jsonl: real role-play and task prompts people wrote for chat models.

Issue 10 names role-play prompts ("I want you to act as ...", "imagine you are ...") as most of
the text detector's false alarms on ordinary user prompts, and long prompts as the worst. The
prompts.csv of f/awesome-chatgpt-prompts (CC0-1.0, about 1,500 prompts contributed by
hundreds of people: personas, task templates, agent role files, image prompts) is that
material written by others, at every length. Its raw URL is not reachable from the build
machines, so the file is read from a clone at a pinned commit and checked against its
SHA-256 before anything is written:

    git clone https://github.com/f/awesome-chatgpt-prompts /tmp/acp
    git -C /tmp/acp show 50a97c072933c93c76cc0714e9dd4c4cf1d80ae7:prompts.csv > /tmp/prompts.csv
    .venv/bin/python scripts/collect_real_prompts.py /tmp/prompts.csv

A handful of the prompts are jailbreaks, not role-play (a "DAN" persona, a "jailbreak research
system", personas that tell the model to ignore its instructions): `JAILBREAK` picks them by
their own words and they are labelled attacks (`kind` "jailbreak"), so that no attack is scored
as a false alarm. Every other row is benign, carrier `user_prompt`. `split` is `eval` for the
prompts whose crc32(title) % 3 == 0, kept out of any training, and `train` for the rest. The
file is not in manifest.json: no build reads it yet.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "injection" / "real-prompts.jsonl"
REPO = "f/awesome-chatgpt-prompts"
COMMIT = "50a97c072933c93c76cc0714e9dd4c4cf1d80ae7"
SHA256 = "855e27c774331935680babd897cbbb3724d032dd498f5b2fe83bd985a0b7b8fa"
MIN_CHARS = 20
JAILBREAK = re.compile(
    r"\bDAN\b.{0,80}do anything now|do anything now|jailbreak research"
    r"|ignore (?:all|any) (?:your|of your|previous|prior)\b.{0,40}instructions",
    re.IGNORECASE | re.DOTALL,
)


def split_of(title: str) -> str:
    return "eval" if zlib.crc32(title.encode("utf-8")) % 3 == 0 else "train"


def rows(data: bytes) -> list[dict[str, object]]:
    csv.field_size_limit(1 << 26)
    out: list[dict[str, object]] = []
    seen: set[str] = set()
    for record in csv.DictReader(io.StringIO(data.decode("utf-8"))):
        text = record["prompt"].strip()
        if len(text) < MIN_CHARS or text in seen:
            continue
        seen.add(text)
        title = record["act"].strip()
        attack = JAILBREAK.search(text) is not None
        out.append(
            {
                "carrier": "user_prompt",
                "family": "real-prompt",
                "id": "prompt-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
                "kind": "jailbreak" if attack else "benign",
                "label": int(attack),
                "lang": "en",
                "license": "CC0-1.0",
                "source": f"github:{REPO}@{COMMIT[:12]}:prompts.csv ({title})",
                "split": split_of(title),
                "text": text,
            }
        )
    return out


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    data = Path(sys.argv[1]).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        print(f"{sys.argv[1]}: SHA-256 {digest}, expected {SHA256} ({REPO} at {COMMIT})", file=sys.stderr)
        return 1
    found = rows(data)
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in found), "utf-8")
    attacks = sum(int(r["label"]) for r in found)  # type: ignore[call-overload]
    print(f"{OUT.relative_to(ROOT)}: {len(found)} prompts, {attacks} labelled jailbreaks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
