"""Semantic Versioning 2.0.0 precedence, which npm and OSV `SEMVER` ranges use.

Only what advisory matching needs: parse one exact version and order two of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import total_ordering

import re2

_VERSION = re2.compile(
    r"^[v=]?\s*(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$"
)


class InvalidSemver(ValueError):
    pass


@total_ordering
@dataclass(frozen=True, slots=True)
class SemVer:
    major: int
    minor: int
    patch: int
    prerelease: tuple[int | str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> SemVer:
        m = _VERSION.match(text.strip())
        if m is None:
            raise InvalidSemver(f"not a semantic version: {text!r}")
        pre: tuple[int | str, ...] = ()
        if m.group(4):
            pre = tuple(int(p) if p.isdigit() else p for p in m.group(4).split("."))
        return cls(int(m.group(1)), int(m.group(2)), int(m.group(3)), pre)

    def _key(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SemVer):
            return NotImplemented
        if self._key() != other._key():
            return self._key() < other._key()
        if not self.prerelease or not other.prerelease:
            # A pre-release sorts before its release; equal releases are not less.
            return bool(self.prerelease) and not other.prerelease
        for a, b in zip(self.prerelease, other.prerelease, strict=False):
            if a == b:
                continue
            if isinstance(a, int) and isinstance(b, int):
                return a < b
            if isinstance(a, int) != isinstance(b, int):
                return isinstance(a, int)  # numeric identifiers sort first
            return str(a) < str(b)
        return len(self.prerelease) < len(other.prerelease)
