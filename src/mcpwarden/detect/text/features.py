"""Feature extraction shared by the training script and the runtime model.

Both sides must compute exactly the same features, so they live here and nowhere
else. Three groups, chosen to generalize beyond the phrasings of the training set:

* hashed word unigrams and bigrams (binary, L2-normalized), so long documents do not
  outweigh short ones;
* one indicator per hand-written rule and per rule family;
* cues of an instruction aimed at an assistant: second person next to a mention of an
  AI model or agent, sentences that open with an imperative verb, and AI mentions.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from functools import lru_cache

from mcpwarden.detect.text.rules import RULES, RuleHit

HASH_BITS = 18
HASH_SIZE = 1 << HASH_BITS
FAMILIES: tuple[str, ...] = tuple(sorted({r.family for r in RULES}))
RULE_IDS: tuple[str, ...] = tuple(r.id for r in RULES)
CUES: tuple[str, ...] = ("you-and-ai", "imperative-opening", "mentions-ai", "rule-count", "embedded")
N_EXTRA = len(RULE_IDS) + len(FAMILIES) + len(CUES)
N_FEATURES = HASH_SIZE + N_EXTRA

RULE_INDEX = {rid: HASH_SIZE + i for i, rid in enumerate(RULE_IDS)}
_FAMILY_INDEX = {fam: HASH_SIZE + len(RULE_IDS) + i for i, fam in enumerate(FAMILIES)}
_CUE_INDEX = {cue: HASH_SIZE + len(RULE_IDS) + len(FAMILIES) + i for i, cue in enumerate(CUES)}

# The package compiles attacker-facing patterns with RE2 (see `_re`); this one is the exception
# on purpose: two disjoint character classes, each repeated once, cannot backtrack, so the
# standard `re` runs it in linear time too, and its `finditer` costs a fraction of the RE2
# binding's, which converts byte offsets to character offsets per match on non-ASCII text.
_SEGMENT = re.compile(r"[^\n.!?|\u3002\uff01\uff1f\u0964]+[.!?\u3002\uff01\uff1f\u0964]*")
SEGMENT_MIN, SEGMENT_MAX = 12, 400
# Tokenizing with str.translate + split keeps this linear and fast without a regex:
# ASCII punctuation and common Unicode punctuation become spaces (the apostrophe stays).
_PUNCT = (
    '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'
    + "\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00ab\u00bb\u00bf\u00a1"
    # CJK, Arabic and Devanagari punctuation
    + "\u3001\u3002\uff0c\uff1a\uff1b\uff01\uff1f\u300c\u300d\u3010\u3011\uff08\uff09\u060c\u061f\u0964"
)
_TOKEN_TABLE = str.maketrans({c: " " for c in _PUNCT} | {"\u2019": "'"})
_SENTENCE_TABLE = str.maketrans({c: "\n" for c in ".!?:;|"})
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


# Function words and pronouns count only inside bigrams ("your instructions", "ignore the"):
# alone they measure writing style (who is addressed), which the training sets confound
# with the label.
_STYLE_UNIGRAMS = frozenset(
    {
        "you", "your", "yours", "yourself", "i", "me", "my", "we", "our", "us", "he", "she", "they",
        "them", "their", "the", "a", "an", "and", "or", "to", "in", "of", "for", "on", "at", "by",
        "it", "its", "this", "that", "these", "is", "are", "be", "was", "were", "with", "as", "from",
    }
)  # fmt: skip


def _cjk(c: str) -> bool:
    o = ord(c)
    return 0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF


def _split_cjk(word: str) -> list[str]:
    """Chinese and Japanese are written without spaces: a whitespace "word" can be a whole
    sentence, which would hash to one feature seen once. Runs of CJK characters become
    overlapping character pairs (the usual unit for these scripts); other runs stay words."""
    out: list[str] = []
    run = ""
    kind = False
    for c in word + " ":
        is_cjk = c != " " and _cjk(c)
        if run and (is_cjk != kind or c == " "):
            if kind:
                out.extend(run[i : i + 2] for i in range(max(1, len(run) - 1)))
            else:
                out.append(run)
            run = ""
        if c != " ":
            run += c
            kind = is_cjk
    return out


def tokens(text: str) -> list[str]:
    """Lowercased words; addresses, URLs and numbers become class tokens.

    Specific domains, account numbers and amounts from the training attacks would
    otherwise be memorized as attack words; their class is what generalizes.
    """
    out: list[str] = []
    for raw in text.lower().split():
        out.extend(raw_tokens(raw))
    return out


def raw_tokens(raw: str) -> list[str]:
    """The tokens of one lowercased whitespace-delimited word (`tokens` is their concatenation,
    so a caller may remember them per word: see `token_table`)."""
    if "@" in raw and "." in raw:
        return ["_email_"]
    if raw.startswith(("http://", "https://", "www.")):
        return ["_url_"]
    out: list[str] = []
    parts = raw.translate(_TOKEN_TABLE).split()
    if not raw.isascii() and any(_cjk(c) for c in raw):
        parts = [piece for part in parts for piece in _split_cjk(part)]
    for word in parts:
        word = word.strip("'")
        if not word:
            continue
        # A letters-only word holds no digit; only the rest need the per-character look.
        if not word.isalpha() and any(c.isdigit() for c in word):
            word = "_num_" if word.isdigit() else "_code_"
        out.append(word)
    return out


def _sentence_openers(text: str) -> list[str]:
    """First word of every sentence, line or table cell, lowercased."""
    out = []
    for part in text.translate(_SENTENCE_TABLE).split("\n"):
        words = part.split(None, 1)
        if words:
            out.append(words[0].lower().strip("'\"*(["))
    return out


# Common words and bigrams recur in every text; remembering their buckets (a bounded LRU, a
# few MB at most) halves the hashing cost per word without changing a feature.
@lru_cache(maxsize=16384)
def _bucket(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8", "surrogatepass")) & (HASH_SIZE - 1)


def segments(text: str) -> list[tuple[int, int]]:
    """Sentence- or line-sized spans: the unit an injected instruction usually occupies.

    Lines, sentences and table cells, long ones cut at SEGMENT_MAX, tiny ones dropped.
    """
    out: list[tuple[int, int]] = []
    for m in _SEGMENT.finditer(text):
        start, end = m.span()
        piece = m.group()
        # str.strip's whitespace is str.isspace's: the span without its blank edges
        start += len(piece) - len(piece.lstrip())
        end -= len(piece) - len(piece.rstrip())
        end = max(end, start)
        for s in range(start, end, SEGMENT_MAX):
            e = min(s + SEGMENT_MAX, end)
            if e - s >= SEGMENT_MIN:
                out.append((s, e))
    return out


def extract(text: str, hits: Sequence[RuleHit], *, embedded: bool = False) -> dict[int, float]:
    """Sparse feature vector of one (normalized) text as {index: value}.

    `embedded` marks a segment cut from a larger document: a request in the middle of
    an e-mail or a table is suspicious where the same words typed by a user are not.
    """
    words = tokens(text)
    hashed: set[int] = set()
    for i, w in enumerate(words):
        if w not in _STYLE_UNIGRAMS:
            hashed.add(_bucket(w))
        if i:
            hashed.add(_bucket(words[i - 1] + " " + w))
    out: dict[int, float] = {}
    if hashed:
        value = 1.0 / len(hashed) ** 0.5
        for idx in hashed:
            out[idx] = value
    for hit in hits:
        out[RULE_INDEX[hit.rule.id]] = 1.0
        out[_FAMILY_INDEX[hit.rule.family]] = 1.0
    if words:
        mentions_ai = any(w in _AI_WORDS for w in words)
        if mentions_ai:
            out[_CUE_INDEX["mentions-ai"]] = 1.0
            # "you" in a text that also names an AI is likely addressed to it; "you" alone is
            # how every e-mail, licence and README speaks to its human reader.
            if any(w in _YOU for w in words):
                out[_CUE_INDEX["you-and-ai"]] = 1.0
    imperative = sum(1 for s in _sentence_openers(text) if s in _IMPERATIVES)
    if imperative:
        out[_CUE_INDEX["imperative-opening"]] = min(1.0, imperative / 3.0)
    if embedded:
        out[_CUE_INDEX["embedded"]] = 1.0
    distinct = len({h.rule.id for h in hits})
    if distinct:
        out[_CUE_INDEX["rule-count"]] = min(1.0, distinct / 4.0)
    return out
