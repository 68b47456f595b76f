"""Feature extraction shared by the training script and the runtime model.

Both sides must compute exactly the same features, so they live here and nowhere
else. Three groups, chosen to generalize beyond the phrasings of the training set:

* hashed word unigrams and bigrams (binary, L2-normalized), so long documents do not
  outweigh short ones;
* one indicator per hand-written rule and per rule family;
* cues of an instruction aimed at an assistant: second-person density, sentences that
  open with an imperative verb, and mentions of an AI model or agent.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from mcpwarden.detect.text._re import compile_re
from mcpwarden.detect.text.rules import RULES, RuleHit

HASH_BITS = 18
HASH_SIZE = 1 << HASH_BITS
FAMILIES: tuple[str, ...] = tuple(sorted({r.family for r in RULES}))
RULE_IDS: tuple[str, ...] = tuple(r.id for r in RULES)
CUES: tuple[str, ...] = ("second-person", "imperative-opening", "mentions-ai", "rule-count")
N_EXTRA = len(RULE_IDS) + len(FAMILIES) + len(CUES)
N_FEATURES = HASH_SIZE + N_EXTRA

_RULE_INDEX = {rid: HASH_SIZE + i for i, rid in enumerate(RULE_IDS)}
_FAMILY_INDEX = {fam: HASH_SIZE + len(RULE_IDS) + i for i, fam in enumerate(FAMILIES)}
_CUE_INDEX = {cue: HASH_SIZE + len(RULE_IDS) + len(FAMILIES) + i for i, cue in enumerate(CUES)}

_TOKEN = compile_re(r"[\pL\pN]+(?:'[\pL]+)?")
_SENTENCE_START = compile_re(r"(?:^|[.!?:;\n]\s*|\|\s*)([A-Za-z]+)")
_YOU = frozenset(
    {"you", "your", "yours", "yourself", "you're", "you'll", "du", "dein", "deine", "dir", "dich"}
)
_AI_WORDS = frozenset(
    {"ai", "assistant", "agent", "llm", "chatbot", "gpt", "chatgpt", "claude", "model", "bot", "copilot"}
)
# Verbs that open instructions to an assistant (and seldom open descriptive prose).
_IMPERATIVES = frozenset(
    {
        "ignore",
        "disregard",
        "forget",
        "send",
        "forward",
        "email",
        "transfer",
        "delete",
        "remove",
        "write",
        "print",
        "output",
        "reply",
        "respond",
        "answer",
        "say",
        "tell",
        "reveal",
        "show",
        "give",
        "provide",
        "list",
        "include",
        "add",
        "append",
        "insert",
        "create",
        "make",
        "change",
        "update",
        "modify",
        "replace",
        "translate",
        "summarize",
        "summarise",
        "rewrite",
        "repeat",
        "use",
        "call",
        "run",
        "execute",
        "open",
        "visit",
        "click",
        "download",
        "upload",
        "post",
        "share",
        "pretend",
        "act",
        "imagine",
        "assume",
        "behave",
        "stop",
        "start",
        "begin",
        "continue",
        "do",
        "don't",
        "never",
        "always",
        "please",
        "remember",
        "note",
        "generate",
        "describe",
        "explain",
        "put",
        "keep",
        "follow",
        "obey",
        "comply",
        "return",
        "book",
        "pay",
        "invite",
        "concatenate",
    }
)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _bucket(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8")) & (HASH_SIZE - 1)


def extract(text: str, hits: Sequence[RuleHit]) -> dict[int, float]:
    """Sparse feature vector of one (normalized) text as {index: value}."""
    words = tokens(text)
    hashed: set[int] = set()
    for i, w in enumerate(words):
        hashed.add(_bucket(w))
        if i:
            hashed.add(_bucket(words[i - 1] + " " + w))
    out: dict[int, float] = {}
    if hashed:
        value = 1.0 / len(hashed) ** 0.5
        for idx in hashed:
            out[idx] = value
    for hit in hits:
        out[_RULE_INDEX[hit.rule.id]] = 1.0
        out[_FAMILY_INDEX[hit.rule.family]] = 1.0
    if words:
        you = sum(1 for w in words if w in _YOU)
        out[_CUE_INDEX["second-person"]] = min(1.0, 8.0 * you / len(words))
        if any(w in _AI_WORDS for w in words):
            out[_CUE_INDEX["mentions-ai"]] = 1.0
    starts = [m.lower() for m in _SENTENCE_START.findall(text)]
    imperative = sum(1 for s in starts if s in _IMPERATIVES)
    if imperative:
        out[_CUE_INDEX["imperative-opening"]] = min(1.0, imperative / 3.0)
    distinct = len({h.rule.id for h in hits})
    if distinct:
        out[_CUE_INDEX["rule-count"]] = min(1.0, distinct / 4.0)
    return out
