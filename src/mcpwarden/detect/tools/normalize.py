"""Text normalization for tool metadata: what the model reads, not what the bytes look like.

Attackers hide instructions from human reviewers in characters a model still reads
(Unicode tag characters carry ASCII invisibly), or split trigger words with zero-width
characters so naive matching misses them. This module reports those characters and
produces a folded form for the rules: NFKC, invisible characters removed, tag characters
decoded to the ASCII they smuggle, common Cyrillic/Greek look-alikes folded to Latin, and
lower case. It is deliberately self-contained (no shared normalizer) so the detector's
behaviour cannot shift under it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Zero-width and other format characters that render as nothing.
ZERO_WIDTH: frozenset[int] = frozenset(
    {
        0x200B,
        0x200C,
        0x200D,
        0x2060,
        0x2061,
        0x2062,
        0x2063,
        0x2064,
        0xFEFF,
        0x180E,
        0x00AD,
        0x034F,
        0x115F,
        0x1160,
        0x3164,
        0xFFA0,
        0x17B4,
        0x17B5,
    }
)
# Bidirectional controls: reorder what a reviewer sees (Trojan Source).
BIDI: frozenset[int] = frozenset(
    {0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C}
)
TAG_START, TAG_END = 0xE0000, 0xE007F
VARIATION_SELECTORS = (range(0xFE00, 0xFE10), range(0xE0100, 0xE01F0))

# Latin look-alikes from Cyrillic, Greek and a few symbol blocks; folded so that "раѕѕword"
# (Cyrillic) matches "password" and so names can be compared by skeleton.
_CONFUSABLES: dict[str, str] = {
    # Cyrillic lower
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "ԁ": "d",
    "ԛ": "q",
    "ԝ": "w",
    "ɡ": "g",
    "һ": "h",
    "ӏ": "l",
    "ո": "n",
    "ս": "u",
    "ց": "g",
    "օ": "o",
    # Cyrillic upper
    "А": "a",
    "В": "b",
    "Е": "e",
    "К": "k",
    "М": "m",
    "Н": "h",
    "О": "o",
    "Р": "p",
    "С": "c",
    "Т": "t",
    "У": "y",
    "Х": "x",
    "Ѕ": "s",
    "І": "i",
    "Ј": "j",
    "Ԛ": "q",
    "Ԝ": "w",
    # Greek
    "α": "a",
    "ο": "o",
    "ρ": "p",
    "ν": "v",
    "τ": "t",
    "υ": "u",
    "ι": "i",
    "κ": "k",
    "χ": "x",
    "ε": "e",
    "Α": "a",
    "Β": "b",
    "Ε": "e",
    "Ζ": "z",
    "Η": "h",
    "Ι": "i",
    "Κ": "k",
    "Μ": "m",
    "Ν": "n",
    "Ο": "o",
    "Ρ": "p",
    "Τ": "t",
    "Υ": "y",
    "Χ": "x",
    # Digits and symbols that pass for letters in identifiers
    "ı": "i",
    "ℓ": "l",
    "ß": "ss",
}
# For name skeletons only: digits and separators that stand in for letters.
_SKELETON_EXTRA: dict[str, str] = {
    "0": "o",
    "1": "l",
    "i": "l",
    "3": "e",
    "5": "s",
    "-": "_",
    ".": "_",
    " ": "_",
}


@dataclass(frozen=True, slots=True)
class Normalized:
    """The folded text plus what was hidden in the original."""

    text: str
    zero_width: int = 0
    bidi: int = 0
    tags: int = 0
    variation: int = 0
    tag_payload: str = ""
    ansi: int = 0
    confusables: int = 0

    @property
    def invisible(self) -> int:
        return self.zero_width + self.bidi + self.tags + self.variation


def _is_variation(cp: int) -> bool:
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def normalize(text: str) -> Normalized:
    """Fold `text` for matching and count the hiding tricks it used."""
    if text.isascii() and "\x1b" not in text:
        return Normalized(text=text.lower())  # nothing to fold: the common case, kept cheap
    zero_width = bidi = tags = variation = ansi = confusables = 0
    tag_chars: list[str] = []
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        cp = ord(ch)
        if cp == 0x1B or cp == 0x9B:  # ESC / CSI: terminal escape sequences
            ansi += 1
            i = _skip_ansi(text, i)
            continue
        if TAG_START <= cp <= TAG_END:
            tags += 1
            if 0xE0020 <= cp <= 0xE007E:
                tag_chars.append(chr(cp - 0xE0000))
                out.append(chr(cp - 0xE0000))
            i += 1
            continue
        if cp in ZERO_WIDTH:
            zero_width += 1
        elif cp in BIDI:
            bidi += 1
        elif _is_variation(cp):
            variation += 1
        else:
            out.append(ch)
        i += 1
    folded = unicodedata.normalize("NFKC", "".join(out))
    chars: list[str] = []
    for ch in folded:
        repl = _CONFUSABLES.get(ch)
        if repl is not None:
            confusables += 1
            chars.append(repl)
        else:
            chars.append(ch)
    return Normalized(
        text="".join(chars).lower(),
        zero_width=zero_width,
        bidi=bidi,
        tags=tags,
        variation=variation,
        tag_payload="".join(tag_chars),
        ansi=ansi,
        confusables=confusables,
    )


def _skip_ansi(text: str, i: int) -> int:
    """Index after the escape sequence starting at `i` (CSI, OSC or a two-byte escape)."""
    n = len(text)
    if ord(text[i]) == 0x9B:
        j = i + 1
    elif i + 1 < n and text[i + 1] == "[":
        j = i + 2
    elif i + 1 < n and text[i + 1] == "]":  # OSC ... BEL or ST
        j = i + 2
        while j < n and text[j] != "\x07" and not (text[j] == "\x1b" and j + 1 < n and text[j + 1] == "\\"):
            j += 1
        return min(n, j + (2 if j < n and text[j] == "\x1b" else 1))
    else:
        return min(n, i + 2)
    while j < n and not ("@" <= text[j] <= "~"):
        j += 1
    return min(n, j + 1)


def scripts_of(text: str) -> set[str]:
    """Unicode scripts of the letters in `text` (approximated from character names)."""
    found: set[str] = set()
    for ch in text:
        if not ch.isalpha():
            continue
        if ord(ch) < 0x80:
            found.add("LATIN")
            continue
        name = unicodedata.name(ch, "")
        found.add(name.split(" ", 1)[0] if name else "UNKNOWN")
    return found


def skeleton(name: str) -> str:
    """A name's look-alike skeleton: two names with equal skeletons read the same to a model or person."""
    base = normalize(name).text
    base = "".join(ch for ch in unicodedata.normalize("NFKD", base) if not unicodedata.combining(ch))
    return "".join(_SKELETON_EXTRA.get(ch, ch) for ch in base).replace("rn", "m").replace("vv", "w")
