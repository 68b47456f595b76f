"""Tokenize a text once and build the feature vector of any window or segment of it from that.

`scan` scores every sentence-sized segment with one model and every 2 KB window with the
other, so each word of a short result is tokenized and hashed at least twice, and that
Python work per word is most of a clean result's scan. `TokenTable` does it once per text:

* the text is lowercased once and split once into whitespace-delimited words, each turned
  into its tokens by `features.raw_tokens` (remembered per distinct word across texts);
* each token's unigram bucket and each adjacent pair's bigram bucket are computed once;
  a bigram's CRC-32 continues the first word's running CRC (CRC-32 can be resumed), so the
  pair's string is never built;
* `extract(start, end, ...)` then slices those arrays for a span and builds the vector.

The vector is the same dict `features.extract(text[start:end], ...)` returns: the same keys,
values *and insertion order* (buckets are added to a fresh set in the reference's order, so
the set iterates the same way), hence the model's dot product is bit-for-bit the same. A
span whose lowercase is not the slice of the text's lowercase
(a character whose lowercase is longer), is handed to `features.extract` itself; a word
cut by a span's edge is tokenized as the cut piece, as the reference sees it.
`tests/unit/detect_text/test_token_table.py` holds the two to the same vectors and verdicts
on the data sets.
"""

from __future__ import annotations

import bisect
import zlib
from collections.abc import Sequence
from itertools import accumulate

from mcpwarden.detect.text import features as F
from mcpwarden.detect.text.rules import RuleHit

_MASK = F.HASH_SIZE - 1
_WORD_LIMIT = 65_536  # distinct words remembered (a few MB); the memo is dropped when full
_WORDS: dict[str, tuple[str, ...]] = {}
# token -> (unigram bucket or -1 for a style word, CRC-32 of "token ", token as UTF-8)
_TOKENS: dict[str, tuple[int, int, bytes]] = {}


def _word_tokens(raw: str) -> tuple[str, ...]:
    found = _WORDS.get(raw)
    if found is None:
        if len(_WORDS) >= _WORD_LIMIT:
            _WORDS.clear()
        found = _WORDS[raw] = tuple(F.raw_tokens(raw))
    return found


def _token(tok: str) -> tuple[int, int, bytes]:
    found = _TOKENS.get(tok)
    if found is None:
        if len(_TOKENS) >= _WORD_LIMIT:
            _TOKENS.clear()
        data = tok.encode("utf-8", "surrogatepass")
        uni = -1 if tok in F._STYLE_UNIGRAMS else zlib.crc32(data) & _MASK
        found = _TOKENS[tok] = (uni, zlib.crc32(b" ", zlib.crc32(data)), data)
    return found


class TokenTable:
    """The tokens and hash buckets of one text, for feature vectors of its spans."""

    __slots__ = (
        "_ai",
        "_bi",
        "_data",
        "_ends",
        "_lowered",
        "_starts",
        "_state",
        "_tok_at",
        "_uni",
        "_you",
        "text",
    )

    def __init__(self, text: str) -> None:
        self.text = text
        lowered = text.lower()
        # Offsets into `lowered` are offsets into `text` only when lowercasing kept every length.
        self._lowered = lowered if len(lowered) == len(text) else None
        words = lowered.split() if self._lowered is not None else []
        starts: list[int] = []  # start and end offset of each word
        ends: list[int] = []
        tok_at: list[int] = [0]  # index of each word's first token; one more entry at the end
        uni: list[int] = []
        bi: list[int] = []  # bucket of (previous token, this token); -1 for the first
        state: list[int] = []
        data: list[bytes] = []
        ai: list[bool] = []
        you: list[bool] = []
        pos = 0
        prev_state = -1
        for raw in words:
            pos = lowered.find(raw, pos)
            starts.append(pos)
            pos += len(raw)
            ends.append(pos)
            for tok in _word_tokens(raw):
                u, st, d = _token(tok)
                uni.append(u)
                bi.append(-1 if prev_state < 0 else zlib.crc32(d, prev_state) & _MASK)
                state.append(st)
                data.append(d)
                prev_state = st
                ai.append(tok in F._AI_WORDS)
                you.append(tok in F._YOU)
            tok_at.append(len(uni))
        self._starts, self._ends, self._tok_at = starts, ends, tok_at
        self._uni, self._bi, self._state, self._data = uni, bi, state, data
        self._ai = [0, *accumulate(ai)]
        self._you = [0, *accumulate(you)]

    def _span(self, start: int, end: int) -> tuple[tuple[str, ...], int, int, tuple[str, ...]] | None:
        """`text[start:end]` as (tokens of a word cut at `start`, token range of the whole words,
        tokens of a word cut at `end`); None when the span lowercases differently on its own."""
        low = self._lowered
        if low is None or self.text[start:end].lower() != low[start:end]:
            return None
        starts, ends = self._starts, self._ends
        a = bisect.bisect_left(starts, start)  # words a..b-1 start inside the span
        b = bisect.bisect_left(starts, end, a)
        head: tuple[str, ...] = ()
        tail: tuple[str, ...] = ()
        if a > 0 and ends[a - 1] > start:
            head = _word_tokens(low[start : min(ends[a - 1], end)])
        if b > a and ends[b - 1] > end:
            b -= 1
            tail = _word_tokens(low[starts[b] : end])
        return head, self._tok_at[a], self._tok_at[b], tail

    def extract(
        self, start: int, end: int, hits: Sequence[RuleHit], *, embedded: bool = False
    ) -> dict[int, float]:
        """`features.extract(text[start:end], hits, embedded=embedded)`, from the shared tokens."""
        span = self._span(start, end)
        if span is None:
            return F.extract(self.text[start:end], hits, embedded=embedded)
        head, i, j, tail = span
        hashed: set[int] = set()
        add = hashed.add
        # The reference's order: each token's unigram, then its bigram with the previous one.
        prev = -1
        for tok in head:
            u, st, d = _token(tok)
            if u >= 0:
                add(u)
            if prev >= 0:
                add(zlib.crc32(d, prev) & _MASK)
            prev = st
        if j > i:
            uni, bi = self._uni, self._bi
            u = uni[i]
            if u >= 0:
                add(u)
            if prev >= 0:
                add(zlib.crc32(self._data[i], prev) & _MASK)
            for k in range(i + 1, j):
                u = uni[k]
                if u >= 0:
                    add(u)
                add(bi[k])
            prev = self._state[j - 1]
        for tok in tail:
            u, st, d = _token(tok)
            if u >= 0:
                add(u)
            if prev >= 0:
                add(zlib.crc32(d, prev) & _MASK)
            prev = st
        out: dict[int, float] = dict.fromkeys(hashed, 1.0 / len(hashed) ** 0.5) if hashed else {}
        for hit in hits:
            out[F.RULE_INDEX[hit.rule.id]] = 1.0
            out[F._FAMILY_INDEX[hit.rule.family]] = 1.0
        edges = head + tail
        if self._ai[j] > self._ai[i] or any(t in F._AI_WORDS for t in edges):
            out[F._CUE_INDEX["mentions-ai"]] = 1.0
            if self._you[j] > self._you[i] or any(t in F._YOU for t in edges):
                out[F._CUE_INDEX["you-and-ai"]] = 1.0
        imperative = sum(1 for s in F._sentence_openers(self.text[start:end]) if s in F._IMPERATIVES)
        if imperative:
            out[F._CUE_INDEX["imperative-opening"]] = min(1.0, imperative / 3.0)
        if embedded:
            out[F._CUE_INDEX["embedded"]] = 1.0
        distinct = len({h.rule.id for h in hits})
        if distinct:
            out[F._CUE_INDEX["rule-count"]] = min(1.0, distinct / 4.0)
        return out
