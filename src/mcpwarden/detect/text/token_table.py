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
word cut by a span's edge is tokenized as the cut piece, as the reference sees it. A span
whose own lowercase is not the slice of the text's lowercase (a character whose lowercase is
longer shifts every offset) is handed to `features.extract` itself.
`tests/unit/detect_text/test_token_table.py` holds the two to the same vectors and verdicts
on the data sets.
"""

from __future__ import annotations

import bisect
import re
import zlib
from collections.abc import Callable, Sequence
from itertools import accumulate, chain, compress
from operator import add, sub
from typing import NamedTuple, cast

from mcpwarden.detect.text import features as F
from mcpwarden.detect.text.rules import RuleHit

_MASK = F.HASH_SIZE - 1
_WORD_LIMIT = 65_536  # distinct words remembered; the memo is dropped when full
# Only words this short are remembered, so the memos stay a few MB whatever the texts hold (a
# base64 blob is one long "word"); longer ones are tokenized each time, as the reference does.
_MEMO_CHARS = 48
_SPACE = re.compile(r"(\s+)")  # a fixed class, no backtracking: linear with the standard `re`
# The ASCII characters `str.split()` splits on (`str.isspace`), each mapped to a space.
_ASCII_SPACE = str.maketrans(dict.fromkeys("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f", " "))
_WORDS: dict[str, tuple[str, ...]] = {}
# token -> (unigram bucket or -1 for a style word, CRC-32 of "token ", token as UTF-8)
_TOKENS: dict[str, tuple[int, int, bytes]] = {}


def _word_tokens(raw: str) -> tuple[str, ...]:
    found = _WORDS.get(raw)
    if found is None:
        found = tuple(F.raw_tokens(raw))
        if len(raw) <= _MEMO_CHARS:
            if len(_WORDS) >= _WORD_LIMIT:
                _WORDS.clear()
            _WORDS[raw] = found
    return found


def _token(tok: str) -> tuple[int, int, bytes]:
    found = _TOKENS.get(tok)
    if found is None:
        data = tok.encode("utf-8", "surrogatepass")
        uni = -1 if tok in F._STYLE_UNIGRAMS else zlib.crc32(data) & _MASK
        found = (uni, zlib.crc32(b" ", zlib.crc32(data)), data)
        if len(tok) <= _MEMO_CHARS:
            if len(_TOKENS) >= _WORD_LIMIT:
                _TOKENS.clear()
            _TOKENS[tok] = found
    return found


def _words(lowered: str) -> tuple[list[str], list[int]] | None:
    """`lowered.split()` and the offset of each word; None if the offsets cannot be trusted."""
    words = lowered.split()
    lens = list(map(len, words))
    lead = len(lowered) - len(lowered.lstrip())
    if words and sum(lens) + len(words) - 1 == len(lowered.rstrip()) - lead:
        # One whitespace character between words (most prose): each word starts one
        # character after the previous one ends.
        return words, list(accumulate(map((1).__add__, lens[:-1]), initial=lead))
    if lowered.isascii():
        # Every ASCII whitespace character becomes a space, so `split(" ")` gives the words
        # and an empty piece per extra space; a piece starts one past the previous one's end.
        pieces = lowered.translate(_ASCII_SPACE).split(" ")
        offsets = accumulate(map((1).__add__, map(len, pieces)), initial=0)
        found = list(compress(pieces, pieces))
        return (words, list(compress(offsets, pieces))) if found == words else None
    # Words and the whitespace runs between them, alternately: offsets are running sums.
    parts = _SPACE.split(lowered)
    offsets_list = [0, *accumulate(map(len, parts))]
    found, starts = parts[0::2], offsets_list[0::2]
    if found and not found[-1]:
        found.pop()
    if found and not found[0]:
        del found[0], starts[0]
    # The regex's whitespace must be str.split's (it is: both are Py_UNICODE_ISSPACE).
    return (words, starts[: len(words)]) if found == words else None


def _feed(toks: Sequence[str], prev: int, put: Callable[[int], None]) -> int:
    """Add the buckets of `toks` (after a token whose running CRC is `prev`, or -1) in the
    reference's order; returns the last token's running CRC."""
    for tok in toks:
        u, state, data = _token(tok)
        if u >= 0:
            put(u)
        if prev >= 0:
            put(zlib.crc32(data, prev) & _MASK)
        prev = state
    return prev


class Layout(NamedTuple):
    """What `TokenTable` computed, read-only: per word, per token and the bucket array."""

    lowered: str  # the text lowercased, same length (offsets are the text's)
    ascii: bool  # the text is ASCII (any span then lowercases as the whole text did)
    starts: list[int]  # each whitespace-delimited word's start, and end
    ends: list[int]
    tok_at: list[int]  # each word's first token, then the number of tokens
    at: list[int]  # each token's first entry in `flat`, then its length
    flat: list[int]  # every token's unigram bucket (unless a style word), then its bigram's
    uni: Sequence[int]  # each token's unigram bucket, -1 for a style word
    ai: list[int]  # running counts of tokens that name an AI model, and of "you" words
    you: list[int]


class SpanTokens(NamedTuple):
    """The token-derived part of one span's features (`TokenTable.span_tokens`)."""

    hashed: set[int]  # distinct unigram and bigram buckets, in the reference's insertion order
    ai: bool  # a token names an AI model
    you: bool  # a token addresses "you" (a cue only next to `ai`)


class TokenTable:
    """The tokens and hash buckets of one text, for feature vectors of its spans."""

    __slots__ = (
        "_ai",
        "_ascii",
        "_at",
        "_bi",
        "_data",
        "_ends",
        "_flat",
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
        # Everything per word below is a C-level `map` over dict lookups; only words and tokens
        # not seen before run Python code. Offsets into `lowered` are offsets into `text` only
        # when lowercasing kept every length.
        found = _words(lowered) if len(lowered) == len(text) else None
        self._lowered = lowered if found is not None else None
        self._ascii = text.isascii()
        words, starts = found if found is not None else ([], [])
        known = list(map(_WORDS.get, words))
        per_word = list(map(_word_tokens, words)) if None in known else cast("list[tuple[str, ...]]", known)
        toks = list(chain.from_iterable(per_word))
        seen = list(map(_TOKENS.get, toks))
        records = list(map(_token, toks)) if None in seen else cast("list[tuple[int, int, bytes]]", seen)
        self._starts = starts
        self._ends = list(map(add, starts, map(len, words)))
        self._tok_at = [0, *accumulate(map(len, per_word))]  # each word's first token, then the end
        uni, state, data = zip(*records, strict=True) if records else ((), (), ())
        self._uni: Sequence[int] = uni
        self._state: Sequence[int] = state
        self._data: Sequence[bytes] = data
        # bucket of (previous token, this token): CRC-32 of the token resumed from "previous "
        self._bi = [-1, *map(_MASK.__and__, map(zlib.crc32, data[1:], state))][: len(toks)]
        # Every token's unigram (unless a style word) then its bigram, in order, and where each
        # token's entries start: a span's buckets are one slice of it, in the reference's order.
        flat = [0] * (2 * len(toks))
        flat[0::2], flat[1::2] = self._uni, self._bi
        self._flat = list(filter((-1).__lt__, flat))
        # Token k's entries start after k unigrams less the style words among them, and k - 1
        # bigrams (the first token has none).
        style = [0, *accumulate(map((-1).__eq__, self._uni))]
        self._at = list(map(sub, [0, *range(1, 2 * len(toks), 2)], style))
        self._ai = [0, *accumulate(map(F._AI_WORDS.__contains__, toks))]
        self._you = [0, *accumulate(map(F._YOU.__contains__, toks))]

    def _span(self, start: int, end: int) -> tuple[tuple[str, ...], int, int, tuple[str, ...]] | None:
        """`text[start:end]` as (tokens of a word cut at `start`, token range of the whole words,
        tokens of a word cut at `end`); None when the span lowercases differently on its own."""
        low = self._lowered
        if low is None:
            return None
        # ASCII lowercases character by character; anything else is compared (final sigma).
        if not self._ascii and self.text[start:end].lower() != low[start:end]:
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

    @property
    def layout(self) -> Layout | None:
        """The table's arrays, for code that reads many spans at once (`span_margins`); None
        when lowercasing moved offsets, so that only `extract` can say what a span holds."""
        if self._lowered is None:
            return None
        return Layout(
            self._lowered, self._ascii, self._starts, self._ends, self._tok_at, self._at, self._flat,
            self._uni, self._ai, self._you,
        )  # fmt: skip

    def span_tokens(self, start: int, end: int) -> SpanTokens | None:
        """What `features.extract` reads from the tokens of `text[start:end]`: its distinct
        buckets and whether it names an AI model or addresses "you"; None when the span
        lowercases differently on its own (then only the reference can say)."""
        span = self._span(start, end)
        if span is None:
            return None
        head, i, j, tail = span
        hashed: set[int] = set()
        put = hashed.add
        # The reference's order: each token's unigram, then its bigram with the previous one.
        prev = _feed(head, -1, put) if head else -1
        if j > i:
            u = self._uni[i]
            if u >= 0:
                put(u)
            if prev >= 0:  # the bigram across the cut, which the table does not hold
                put(zlib.crc32(self._data[i], prev) & _MASK)
            hashed.update(self._flat[self._at[i + 1] : self._at[j]])
            prev = self._state[j - 1]
        if tail:
            _feed(tail, prev, put)
        ai = self._ai[j] > self._ai[i]
        you = self._you[j] > self._you[i]
        if head or tail:
            edges = head + tail
            ai = ai or any(t in F._AI_WORDS for t in edges)
            you = you or any(t in F._YOU for t in edges)
        return SpanTokens(hashed, ai, you)

    def extract(
        self, start: int, end: int, hits: Sequence[RuleHit], *, embedded: bool = False
    ) -> dict[int, float]:
        """`features.extract(text[start:end], hits, embedded=embedded)`, from the shared tokens."""
        tokens = self.span_tokens(start, end)
        if tokens is None:
            return F.extract(self.text[start:end], hits, embedded=embedded)
        hashed = tokens.hashed
        out: dict[int, float] = dict.fromkeys(hashed, 1.0 / len(hashed) ** 0.5) if hashed else {}
        for hit in hits:
            out[F.RULE_INDEX[hit.rule.id]] = 1.0
            out[F._FAMILY_INDEX[hit.rule.family]] = 1.0
        if tokens.ai:
            out[F._CUE_INDEX["mentions-ai"]] = 1.0
            if tokens.you:
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
