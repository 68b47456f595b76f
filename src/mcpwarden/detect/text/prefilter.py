"""One pass over a text to learn which of many patterns can match it at all.

Rule and secret scans run dozens of RE2 patterns over every text, one `finditer` each,
and on ordinary text almost none of them match: most of the cost is the per-pattern
call, not the matching. `PatternSet` compiles the same patterns into RE2 sets (one per
case-sensitivity, since a set has one set of options) and answers, in one linear scan,
which patterns match somewhere in the text. The caller then runs `finditer` only for
those. The answer is exact for "matches somewhere", so a pattern that the set leaves out
has no match at all, and the hits are the same as when every pattern runs.

When RE2 cannot build or run a set (its DFA memory budget is exceeded on a pathological
text), `candidates` answers "every pattern", which is the full scan: never less work
than asked for. A failed set search returns no indices at all, which would read as "no
pattern matches", so every set also holds an empty pattern that matches any text: a
result without it is a failure, never a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import re2

from mcpwarden.detect.text._re import Pattern


class PatternSet:
    """The indices of `patterns` that match somewhere in a text, from one scan per case mode."""

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        self.size = len(patterns)
        self._everything = frozenset(range(self.size))
        # Per case mode: the set, and set index -> position in `patterns`.
        self._sets: list[tuple[re2.Set, list[int], int]] = []
        groups: dict[bool, list[int]] = {}
        for i, pattern in enumerate(patterns):
            groups.setdefault(bool(pattern.options.case_sensitive), []).append(i)
        try:
            for case_sensitive, members in groups.items():
                opts = re2.Options()
                opts.log_errors = False
                opts.case_sensitive = case_sensitive
                built = re2.Set.SearchSet(opts)
                for i in members:
                    built.Add(patterns[i].pattern)
                sentinel = built.Add("")
                built.Compile()
                self._sets.append((built, members, sentinel))
        except re2.error:
            self._sets = []  # `candidates` falls back to every pattern

    def candidates(self, text: str) -> frozenset[int]:
        """Indices of the patterns that may match `text` (exactly those that do, unless RE2 gave up)."""
        if not self._sets:
            return self._everything
        found: set[int] = set()
        for built, members, sentinel in self._sets:
            try:
                # The stubs say bool; the binding returns the matching indices, or None.
                matched = cast("list[int] | None", built.Match(text))
            except re2.error:
                return self._everything
            if not matched or sentinel not in matched:
                return self._everything  # the search gave up: scan with every pattern
            found.update(members[j] for j in matched if j != sentinel)
        return frozenset(found)
