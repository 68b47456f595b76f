"""Typosquat detection against a curated list of well-known MCP packages.

Two signals: a small edit distance (optimal string alignment, so one swap of adjacent
letters counts as one edit) and equal "skeletons" after folding characters people
confuse when reading (`rn`/`m`, `0`/`o`, `l`/`1`/`I`, Cyrillic look-alikes, separators).
A scope owner cannot squat itself, so names under the same npm scope as the well-known
package are never reported; forks under unrelated scopes are not reported either,
because republishing a server under one's own scope is common and legitimate.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from packaging.utils import canonicalize_name

_CONFUSABLE_CHARS = str.maketrans(
    {
        "0": "o",
        "1": "l",
        "i": "l",
        "|": "l",
        "3": "e",
        "5": "s",
        "$": "s",
        "@": "a",
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "х": "x",
        "у": "y",
        "і": "l",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ɡ": "g",
        "ո": "n",
        "ο": "o",
        "α": "a",
        "ν": "v",
        "κ": "k",
        "τ": "t",
        "-": "",
        "_": "",
        ".": "",
    }
)
_CONFUSABLE_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"), ("nn", "m"))


def skeleton(name: str) -> str:
    """A form in which names that read alike compare equal."""
    folded = unicodedata.normalize("NFKC", name).lower().translate(_CONFUSABLE_CHARS)
    for pair, single in _CONFUSABLE_PAIRS:
        folded = folded.replace(pair, single)
    return folded


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance, giving up (returning limit + 1) beyond `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        best = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, prev2[j - 2] + 1)
            cur[j] = value
            best = min(best, value)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[len(b)]


@dataclass(frozen=True, slots=True)
class KnownPackage:
    ecosystem: str
    name: str
    source: str


@dataclass(frozen=True, slots=True)
class SquatMatch:
    candidate: str
    known: KnownPackage
    reason: str  # "edit-distance", "confusable", "scope"


@lru_cache(maxsize=1)
def known_packages() -> tuple[KnownPackage, ...]:
    data = json.loads(resources.files("mcpwarden.data").joinpath("mcp_packages.json").read_text("utf-8"))
    return tuple(
        KnownPackage(ecosystem, item["name"], item["source"])
        for ecosystem in ("npm", "pypi")
        for item in data[ecosystem]
    )


def _split_scope(name: str) -> tuple[str, str]:
    if name.startswith("@") and "/" in name:
        scope, _, bare = name.partition("/")
        return scope, bare
    return "", name


def _normalize(ecosystem: str, name: str) -> str:
    return canonicalize_name(name) if ecosystem == "pypi" else name.lower()


def _max_distance(length: int) -> int:
    if length < 5:
        return 0
    return 1 if length < 12 else 2


def find_squat(ecosystem: str, name: str, known: tuple[KnownPackage, ...] | None = None) -> SquatMatch | None:
    """The well-known package `name` imitates, or None (also when `name` is itself well known)."""
    catalogue = [k for k in (known if known is not None else known_packages()) if k.ecosystem == ecosystem]
    candidate = _normalize(ecosystem, name)
    if any(_normalize(ecosystem, k.name) == candidate for k in catalogue):
        return None
    c_scope, c_bare = _split_scope(candidate)
    for k in catalogue:
        k_scope, k_bare = _split_scope(_normalize(ecosystem, k.name))
        if c_scope and c_scope == k_scope:
            continue  # same publisher
        if c_scope or k_scope:
            if not (c_scope and k_scope) or not _close(c_scope, k_scope, 2):
                continue
            if c_bare == k_bare or _close(c_bare, k_bare, _max_distance(len(k_bare))):
                return SquatMatch(name, k, "scope")
            continue
        if skeleton(c_bare) == skeleton(k_bare):
            return SquatMatch(name, k, "confusable")
        limit = _max_distance(len(k_bare))
        if limit and edit_distance(c_bare, k_bare, limit) <= limit:
            return SquatMatch(name, k, "edit-distance")
    return None


def _close(a: str, b: str, limit: int) -> bool:
    return skeleton(a) == skeleton(b) or (limit > 0 and edit_distance(a, b, limit) <= limit)
