"""Name and URI patterns, matched without a backtracking regex engine.

Tool and prompt names are matched on every call, so their globs are compiled into
plain string operations (exact set lookup, prefix, suffix, ordered substring search):
that is linear in the name, needs no regex at all, and is several times faster than a
re2 call from Python. Resource URIs need segment-aware wildcards (`*` stays inside one
path segment, `**` crosses them), so those patterns are translated to re2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import re2


@dataclass(frozen=True, slots=True)
class NameGlob:
    """A name pattern where `*` matches any run of characters (including none).

    Matching is greedy over the literal pieces between stars, which is exact for
    star-only globs: the first piece must be a prefix, the last a suffix, and each
    middle piece is found leftmost after the previous one.
    """

    pattern: str
    pieces: tuple[str, ...]

    @classmethod
    def compile(cls, pattern: str) -> NameGlob:
        return cls(pattern, tuple(pattern.split("*")))

    @property
    def is_literal(self) -> bool:
        return len(self.pieces) == 1

    def match(self, name: str) -> bool:
        pieces = self.pieces
        if len(pieces) == 1:
            return name == pieces[0]
        first, last = pieces[0], pieces[-1]
        if len(name) < len(first) + len(last):
            return False
        if not name.startswith(first) or not name.endswith(last):
            return False
        pos, end = len(first), len(name) - len(last)
        for piece in pieces[1:-1]:
            if not piece:
                continue
            found = name.find(piece, pos, end)
            if found < 0:
                return False
            pos = found + len(piece)
        return True


class NameSet:
    """A union of name globs: exact names in a set, the rest tried in order."""

    __slots__ = ("any", "exact", "globs", "patterns")

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns: tuple[str, ...] = tuple(patterns)
        compiled = [NameGlob.compile(p) for p in self.patterns]
        self.exact: frozenset[str] = frozenset(g.pattern for g in compiled if g.is_literal)
        self.globs: tuple[NameGlob, ...] = tuple(g for g in compiled if not g.is_literal)
        self.any: bool = "*" in self.patterns

    def match(self, name: str) -> str | None:
        """Return the first pattern that matches `name`, or None."""
        if self.any:
            return "*"
        if name in self.exact:
            return name
        for glob in self.globs:
            if glob.match(name):
                return glob.pattern
        return None

    def __bool__(self) -> bool:
        return bool(self.patterns)


def _uri_glob_to_re2(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        else:
            out.append(re2.escape(pattern[i]))
            i += 1
    return "".join(out)


@dataclass(frozen=True, slots=True)
class UriGlob:
    """A resource URI pattern: `*` within one path segment, `**` across segments."""

    pattern: str
    regex: re2._Regexp[str]
    literal_prefix: str

    @classmethod
    def compile(cls, pattern: str) -> UriGlob:
        star = pattern.find("*")
        prefix = pattern if star < 0 else pattern[:star]
        options = re2.Options()
        options.dot_nl = True
        return cls(pattern, re2.compile(_uri_glob_to_re2(pattern), options), prefix)

    def match(self, uri: str) -> bool:
        return self.regex.fullmatch(uri) is not None

    def may_match_template(self, template_prefix: str, sample: str) -> bool:
        """Whether some expansion of a URI template could fall under this pattern.

        `template_prefix` is the template's text before its first `{`; `sample` is the
        template with each expression replaced by a placeholder segment. Either the
        sample matches, or one literal prefix extends the other, meaning the template
        can expand into the region this pattern covers.
        """
        if self.match(sample):
            return True
        return self.literal_prefix.startswith(template_prefix) or template_prefix.startswith(
            self.literal_prefix
        )

    def covers_template(self, template_prefix: str) -> bool:
        """Whether every expansion of a template with this literal prefix matches.

        Only a pattern of the form `<prefix>**` can say so without knowing what the
        template's expressions expand to.
        """
        return (
            self.pattern.endswith("**")
            and "*" not in self.pattern[:-2]
            and template_prefix.startswith(self.pattern[:-2])
        )


class UriSet:
    """A union of URI globs."""

    __slots__ = ("globs", "patterns")

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns: tuple[str, ...] = tuple(patterns)
        self.globs: tuple[UriGlob, ...] = tuple(UriGlob.compile(p) for p in self.patterns)

    def match(self, uri: str) -> str | None:
        for glob in self.globs:
            if glob.match(uri):
                return glob.pattern
        return None

    def __bool__(self) -> bool:
        return bool(self.patterns)
