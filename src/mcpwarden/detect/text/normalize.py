"""Undoing the tricks that hide instructions from people but not from models.

Attackers hide text with invisible characters, Unicode tag characters, bidi controls,
ANSI escapes, HTML comments and CSS, look-alike letters, and layers of encoding. The
detectors downstream should see what a model would read, so this module produces:

* `text`: NFKC-normalized text with invisible, bidi, tag and ANSI characters removed and
  look-alike letters folded to ASCII inside Latin-looking words;
* `segments`: extra texts to scan separately — tag- or variation-selector-smuggled
  ASCII, and decoded base64/hex/URL/HTML-entity payloads (nested, within a budget);
* `hidden`: spans of `text` that a human would not see (HTML comments, hidden CSS);
* `findings`: what was removed or decoded, each pointing into the ORIGINAL text.

An offset map (one original index per output character) lets every later finding be
reported against the original text.
"""

from __future__ import annotations

import base64
import binascii
import html
import unicodedata
import urllib.parse
from dataclasses import dataclass, field

from mcpwarden.detect.findings import Finding, Severity
from mcpwarden.detect.text._re import compile_re, encodable

# Characters with no visible glyph that are used to split words or carry data.
_INVISIBLE = frozenset(
    [
        *(0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF, 0xFFA0),
        *range(0x200B, 0x200E),
        *range(0x2060, 0x2065),
        *range(0x206A, 0x2070),
    ]
)
_BIDI = frozenset([0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_TAG_FIRST, _TAG_LAST = 0xE0000, 0xE007F
_VS_LOW = range(0xFE00, 0xFE10)  # VS1-VS16  -> byte values 0..15
_VS_HIGH = range(0xE0100, 0xE01F0)  # VS17-VS256 -> byte values 16..255
_BLACK_FLAG = 0x1F3F4  # subdivision flags (England, Scotland, Wales) are spelled with tag chars

# Look-alikes of ASCII letters (Unicode confusables, Latin-relevant subset).
_CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "һ": "h", "ԁ": "d",
    "ԛ": "q", "ԝ": "w", "ɡ": "g", "ӏ": "l", "ո": "n", "ս": "u", "ց": "g", "ɑ": "a", "ʏ": "y",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J", "Ү": "Y", "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W",
    # Greek
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "τ": "t", "ι": "i", "κ": "k", "υ": "u", "χ": "x",
    "ε": "e", "ω": "w", "γ": "y", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I",
    "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Armenian and Latin extensions
    "օ": "o", "ı": "i", "ȷ": "j", "ℓ": "l", "ǀ": "l",
}  # fmt: skip

_CONFUSABLE_SET = frozenset(_CONFUSABLES)

_ANSI = compile_re(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_HTML_COMMENT = compile_re(r"(?s)<!--(.*?)(?:-->|$)")
_HIDDEN_TAG = compile_re(r"(?is)<([a-z][a-z0-9]{0,10})\b([^>]*?)>(.*?)</[a-z][a-z0-9]{0,10}\s*>")
_STYLE_HIDES = compile_re(
    r"(?i)display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|\"|'|$)"
    r"|font-size\s*:\s*[01]px|opacity\s*:\s*0(?:\.0+)?\s*(?:;|\"|'|$)|color\s*:\s*transparent"
    r"|\bhidden\b(?:\s|=|>|$)|height\s*:\s*0(?:px)?\s*;[^\"']*overflow\s*:\s*hidden"
)
_COLOR = compile_re(r"(?i)(?:^|[;\s\"'])(color|background(?:-color)?)\s*:\s*([#a-z0-9(),.%]{1,40})")
_BASE64_RUN = compile_re(r"[A-Za-z0-9+/_\-]{16,}={0,2}")
_HEX_RUN = compile_re(r"(?:\\x[0-9a-fA-F]{2}){6,}|\b(?:[0-9a-fA-F]{2}[ :]?){12,}\b")
_URL_RUN = compile_re(r"[^\s\"'<>]*%[0-9A-Fa-f]{2}[^\s\"'<>]*")
_ENTITY_LINE = compile_re(r"[^\n]*&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,10});[^\n]*")
_WORD = compile_re(r"[^\s\d!-/:-@\[-`{-~]+")

DECODE_BUDGET = 64 * 1024  # decoded characters per document, across all layers
MAX_DEPTH = 3


@dataclass(slots=True)
class Segment:
    """Extra text recovered from the original (decoded or smuggled) to scan on its own."""

    text: str
    span: tuple[int, int]  # in the original text
    origin: str  # e.g. "base64", "hex", "url", "html-entity", "tag-characters"


@dataclass(slots=True)
class Normalized:
    original: str
    text: str
    offsets: list[int] | None  # original index of each char of `text`; None means identity
    segments: list[Segment] = field(default_factory=list)
    hidden: list[tuple[int, int]] = field(default_factory=list)  # spans of `text`
    findings: list[Finding] = field(default_factory=list)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of `text` back to the original text."""
        if self.offsets is None:
            return start, end
        if not self.offsets:
            return 0, len(self.original)
        start = min(max(start, 0), len(self.offsets) - 1)
        last = min(max(end - 1, start), len(self.offsets) - 1)
        return self.offsets[start], self.offsets[last] + 1

    def in_hidden(self, start: int, end: int) -> bool:
        return any(start < e and s < end for s, e in self.hidden)


def _printable_ratio(text: str) -> float:
    if not text:
        return 0.0
    good = sum(1 for c in text if c.isprintable() or c in "\n\r\t")
    return good / len(text)


def _plausible_text(text: str) -> bool:
    """Decoded bytes that read as language, not binary or another random token."""
    if len(text) < 8 or _printable_ratio(text) < 0.95:
        return False
    letters = sum(1 for c in text if c.isalpha())
    spaces = text.count(" ")
    return letters >= 0.5 * len(text) and spaces >= 1


def _b64(run: str) -> str | None:
    stripped = run.rstrip("=")
    if len(stripped) < 16:
        return None
    padded = stripped + "=" * (-len(stripped) % 4)
    try:
        if "-" in run or "_" in run:
            raw = base64.urlsafe_b64decode(padded)
        else:
            raw = base64.b64decode(padded, validate=True)
        return raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _hex(run: str) -> str | None:
    digits = run.replace("\\x", "").replace(" ", "").replace(":", "")
    if len(digits) % 2:
        return None
    try:
        return bytes.fromhex(digits).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def _decode_layers(text: str, span: tuple[int, int], depth: int, budget: list[int]) -> list[Segment]:
    """Find encoded runs in `text` and decode them, recursing into the results."""
    out: list[Segment] = []
    if depth > MAX_DEPTH or budget[0] <= 0:
        return out
    top = depth == 0
    candidates: list[tuple[str, int, int, str | None]] = []
    for m in _BASE64_RUN.finditer(text):
        candidates.append(("base64", *m.span(), _b64(m.group())))
    for m in _HEX_RUN.finditer(text):
        candidates.append(("hex", *m.span(), _hex(m.group())))
    if "%" in text:
        for m in _URL_RUN.finditer(text):
            if m.group().count("%") >= 3:
                candidates.append(("url", *m.span(), urllib.parse.unquote_plus(m.group())))
    if "&" in text:
        for m in _ENTITY_LINE.finditer(text):
            if m.group().count(";") >= 2:
                candidates.append(("html-entity", *m.span(), html.unescape(m.group())))
    for origin, start, end, decoded in candidates:
        if decoded is None or budget[0] <= 0 or decoded == text[start:end]:
            continue
        decoded = unicodedata.normalize("NFKC", decoded[: budget[0]])
        budget[0] -= len(decoded)
        seg_span = (start, end) if top else span
        if _plausible_text(decoded) or origin in {"url", "html-entity"}:
            out.append(Segment(decoded, seg_span, origin))
        out.extend(_decode_layers(decoded, seg_span, depth + 1, budget))
    return out


def _style_hides(attrs: str) -> bool:
    if _STYLE_HIDES.search(attrs):
        return True
    colors: dict[str, str] = {}
    for m in _COLOR.finditer(attrs):
        prop = "bg" if m.group(1).lower().startswith("background") else "fg"
        colors[prop] = m.group(2).strip().lower().replace(" ", "")
    return "fg" in colors and colors.get("fg") == colors.get("bg")


def _fold_word(word: str, latin_context: bool) -> str | None:
    """ASCII spelling of a word that uses look-alike letters, or None to leave it alone.

    Mixed-script words are always folded. A word written entirely in look-alikes is folded
    only inside mostly-Latin text, so genuine Greek or Russian prose is not mangled.
    """
    if word.isascii():
        return None
    has_latin = any("a" <= c.lower() <= "z" for c in word)
    has_confusable = any(c in _CONFUSABLES for c in word)
    if not has_confusable:
        return None
    if not has_latin and not (
        latin_context and len(word) >= 3 and all(c in _CONFUSABLES or c.isascii() for c in word)
    ):
        return None
    return "".join(_CONFUSABLES.get(c, c) for c in word)


class _Builder:
    __slots__ = ("chars", "offsets")

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.offsets: list[int] = []

    def add(self, text: str, origin: int) -> None:
        for ch in text:
            self.chars.append(ch)
            self.offsets.append(origin)


def _runs(indices: list[int]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for i in indices:
        if spans and spans[-1][1] == i:
            spans[-1] = (spans[-1][0], i + 1)
        else:
            spans.append((i, i + 1))
    return spans


def _smuggled_bytes(codes: list[int]) -> str:
    data = bytearray()
    for cp in codes:
        data.append(cp - 0xFE00 if cp < 0xE0000 else cp - 0xE0100 + 16)
    return data.decode("utf-8", errors="replace")


def _needs_char_pass(text: str) -> bool:
    return not text.isascii() or "\x1b" in text


def normalize(text: str, *, decode: bool = True) -> Normalized:
    """Normalize `text` for detection; see the module docstring for what comes back."""
    text = encodable(text)
    result = Normalized(original=text, text=text, offsets=None)
    if _needs_char_pass(text):
        _char_pass(text, result)
    _mark_hidden_html(result)
    if decode:
        budget = [DECODE_BUDGET]
        for seg in _decode_layers(result.text, (0, len(result.text)), 0, budget):
            seg.span = result.original_span(*seg.span)
            result.segments.append(seg)
            result.findings.append(
                Finding(
                    f"obfuscation.{seg.origin}",
                    Severity.INFO,
                    f"{seg.origin}-encoded text decoded for scanning",
                    span=seg.span,
                )
            )
    return result


def _char_pass(text: str, result: Normalized) -> None:
    ansi: set[int] = set()
    for m in _ANSI.finditer(text):
        ansi.update(range(*m.span()))
    out = _Builder()
    invisible: list[int] = []
    bidi: list[int] = []
    tags: list[tuple[int, int]] = []  # (original index, code point)
    selectors: list[tuple[int, int]] = []
    block = 64
    for base in range(0, len(text), block):
        piece = text[base : base + block]
        if piece.isascii() and "\x1b" not in piece and not ansi:
            # fast path: plain ASCII needs no per-character work
            out.chars.extend(piece)
            out.offsets.extend(range(base, base + len(piece)))
            continue
        _char_block(piece, base, ansi, out, invisible, bidi, tags, selectors)
    folded = _fold_confusables(out, result)
    result.text = "".join(folded.chars)
    result.offsets = folded.offsets
    if ansi:
        spans = _runs(sorted(ansi))
        result.findings.append(
            Finding(
                "obfuscation.ansi-escape", Severity.MEDIUM, "ANSI escape sequences removed", span=spans[0]
            )
        )
    for span in _runs(invisible):
        result.findings.append(
            Finding("obfuscation.invisible", Severity.LOW, "invisible characters removed", span=span)
        )
    for span in _runs(bidi):
        result.findings.append(
            Finding(
                "obfuscation.bidi", Severity.MEDIUM, "bidirectional control characters removed", span=span
            )
        )
    _tag_segments(text, tags, result)
    _selector_segments(selectors, result)


def _char_block(
    piece: str,
    base: int,
    ansi: set[int],
    out: _Builder,
    invisible: list[int],
    bidi: list[int],
    tags: list[tuple[int, int]],
    selectors: list[tuple[int, int]],
) -> None:
    for j, ch in enumerate(piece):
        i = base + j
        if i in ansi:
            continue
        cp = ord(ch)
        if _TAG_FIRST <= cp <= _TAG_LAST:
            tags.append((i, cp))
        elif cp in _BIDI:
            bidi.append(i)
        elif cp in _INVISIBLE:
            invisible.append(i)
        elif cp in _VS_LOW or cp in _VS_HIGH:
            # one selector after an emoji picks its presentation; runs of them carry bytes
            selectors.append((i, cp))
        elif cp < 128:
            out.chars.append(ch)
            out.offsets.append(i)
        else:
            out.add(unicodedata.normalize("NFKC", ch), i)


def _tag_segments(text: str, tags: list[tuple[int, int]], result: Normalized) -> None:
    for start, end in _runs([i for i, _ in tags]):
        codes = [ord(c) for c in text[start:end]]
        letters = "".join(chr(c - 0xE0000) for c in codes if 0xE0020 <= c <= 0xE007E)
        is_flag = (
            start > 0
            and ord(text[start - 1]) == _BLACK_FLAG
            and codes[-1] == 0xE007F
            and len(letters) <= 7
            and letters.isalnum()
        )
        if is_flag:
            continue
        result.findings.append(
            Finding(
                "obfuscation.tag-characters",
                Severity.HIGH,
                f"text smuggled in Unicode tag characters: {letters[:80]!r}",
                span=(start, end),
            )
        )
        if letters:
            result.segments.append(Segment(letters, (start, end), "tag-characters"))


def _selector_segments(selectors: list[tuple[int, int]], result: Normalized) -> None:
    index = dict(selectors)
    for start, end in _runs([i for i, _ in selectors]):
        if end - start < 4:
            continue  # emoji presentation selectors come alone
        decoded = _smuggled_bytes([index[i] for i in range(start, end)])
        result.findings.append(
            Finding(
                "obfuscation.variation-selectors",
                Severity.HIGH,
                f"bytes smuggled in variation selectors: {decoded[:80]!r}",
                span=(start, end),
            )
        )
        result.segments.append(Segment(decoded, (start, end), "variation-selectors"))


def _fold_confusables(out: _Builder, result: Normalized) -> _Builder:
    text = "".join(out.chars)
    if text.isascii() or not _CONFUSABLE_SET.intersection(text):
        return out
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    foreign = sum(1 for c in text if not c.isascii() and c.isalpha())
    folded = _Builder()
    pos = 0
    for m in _WORD.finditer(text):
        start, end = m.span()
        replacement = _fold_word(m.group(), latin > foreign)
        if replacement is None:
            continue
        folded.chars.extend(out.chars[pos:start])
        folded.offsets.extend(out.offsets[pos:start])
        folded.chars.extend(replacement)
        folded.offsets.extend(out.offsets[start:end])
        span = (out.offsets[start], out.offsets[end - 1] + 1)
        result.findings.append(
            Finding(
                "obfuscation.homoglyph",
                Severity.MEDIUM,
                f"look-alike letters folded: {replacement[:40]!r}",
                span=span,
            )
        )
        pos = end
    folded.chars.extend(out.chars[pos:])
    folded.offsets.extend(out.offsets[pos:])
    return folded


def _mark_hidden_html(result: Normalized) -> None:
    text = result.text
    if "<" not in text:
        return
    for m in _HTML_COMMENT.finditer(text):
        body = m.group(1)
        if sum(1 for c in body if c.isalpha()) < 8:
            continue
        result.hidden.append(m.span(1))
        result.findings.append(
            Finding(
                "obfuscation.html-comment",
                Severity.LOW,
                "text inside an HTML comment is invisible when rendered",
                span=result.original_span(*m.span()),
            )
        )
    for m in _HIDDEN_TAG.finditer(text):
        if not _style_hides(m.group(2)) or not m.group(3).strip():
            continue
        result.hidden.append(m.span(3))
        result.findings.append(
            Finding(
                "obfuscation.hidden-markup",
                Severity.MEDIUM,
                "text styled to be invisible (hidden, zero size or same colour)",
                span=result.original_span(*m.span()),
            )
        )
