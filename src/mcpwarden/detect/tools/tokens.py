"""Tokenizing normalized text with `str.translate` and `split`: linear, and no regex engine.

Shared by the rules (tool-like identifiers), the shape checks (content words) and the
learned model (its hashed n-grams), so all three see the same tokens.
"""

from __future__ import annotations

import string

_QUOTES = "'\"`"
# Punctuation that separates tokens; `_` `-` and quotes survive so identifiers stay whole.
_SPLIT_IDENT = str.maketrans({c: " " for c in string.punctuation if c not in "_-" + _QUOTES})
_SPLIT_WORDS = str.maketrans({c: " " for c in string.punctuation if c not in "'~/._"})
_SPLIT_ALL = str.maketrans({c: " " for c in string.punctuation})


def identifiers(text: str) -> set[str]:
    """snake_case names anywhere, and quoted kebab-case names (`migrate-reset`)."""
    found: set[str] = set()
    for tok in text.translate(_SPLIT_IDENT).split():
        quoted = tok[0] in _QUOTES and tok[-1] in _QUOTES and len(tok) > 2
        core = tok.strip(_QUOTES + "-_")
        if len(core) < 3 or not core[0].isalpha() or not core.isascii():
            continue
        if ("_" in core or (quoted and "-" in core)) and core.replace("_", "").replace("-", "").isalnum():
            found.add(core)
    return found


def words(text: str) -> list[str]:
    """Alphanumeric words of at least three characters starting with a letter."""
    return [w for w in text.translate(_SPLIT_ALL).split() if len(w) >= 3 and w[0].isalpha()]


def model_tokens(text: str) -> list[str]:
    """Words plus path-like tokens (`~/.ssh/id_rsa`), the unit of the learned model's n-grams."""
    out: list[str] = []
    for tok in text.translate(_SPLIT_WORDS).split():
        tok = tok.strip("'._")
        if len(tok) >= 2 and (tok[0].isalpha() or tok[0] in "~/."):
            out.append(tok)
    return out
