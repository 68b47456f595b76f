"""Path and URI normalization for prefix checks that tricks cannot slip past.

A path argument is attacker-controlled text that an upstream server will interpret
in a way the gateway cannot see: it may or may not percent-decode it (once, or
twice), and it may or may not treat a backslash as a separator. Rather than guess,
every plausible interpretation is built (each decoding stage, each with backslashes
kept or turned into slashes), each is normalized (`.` and `..` removed, repeated
slashes collapsed), and the value passes only if *all* of them stay under the prefix.
Guessing wrong can then only make the check stricter, never looser.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from urllib.parse import unquote

# More encoding layers than this is not a legitimate path; it is an attack on decoders.
MAX_DECODE_ROUNDS = 4


class PathRejected(ValueError):
    """The value cannot be interpreted as a safe path at all."""


def decoding_stages(value: str) -> list[str]:
    """The value and each successive percent-decoding of it, until it stops changing."""
    stages = [value]
    current = value
    for _ in range(MAX_DECODE_ROUNDS):
        decoded = unquote(current, errors="strict")
        if decoded == current:
            return stages
        stages.append(decoded)
        current = decoded
    if unquote(current, errors="strict") != current:
        raise PathRejected(f"more than {MAX_DECODE_ROUNDS} layers of percent-encoding")
    return stages


def _interpretations(value: str) -> list[str]:
    seen: list[str] = []
    try:
        stages = decoding_stages(value)
    except UnicodeDecodeError:
        raise PathRejected("percent-encoding does not decode to UTF-8") from None
    for stage in stages:
        if "\x00" in stage:
            raise PathRejected("NUL byte in path")
        for variant in (stage, stage.replace("\\", "/")):
            if variant not in seen:
                seen.append(variant)
    return seen


def _strip_file_scheme(path: str) -> str:
    if path[:7].lower() == "file://":
        rest = path[7:]
        host, sep, tail = rest.partition("/")
        if host not in ("", "localhost"):
            raise PathRejected("file URI names a remote host")
        return sep + tail
    return path


def normalize_posix(path: str) -> str:
    """Collapse `.`, `..` and repeated slashes of an absolute POSIX path."""
    normalized = posixpath.normpath(path)
    # POSIX keeps a leading `//` as implementation-defined; no server we guard needs it.
    while normalized.startswith("//"):
        normalized = normalized[1:]
    return normalized


def is_under(path: str, prefix: str) -> bool:
    """Whether normalized `path` is `prefix` itself or inside it (segment-wise)."""
    if prefix == "/":
        return path.startswith("/")
    return path == prefix or path.startswith(prefix + "/")


@dataclass(frozen=True, slots=True)
class PathPrefix:
    """A compiled path-prefix constraint.

    `relative_to` gives relative paths a base (tools that take paths relative to a
    root); without it a relative path is rejected, since the gateway cannot know what
    the upstream would resolve it against. `resolve_symlinks_under` names a directory
    the gateway shares with the upstream: a path under it is also resolved with
    `os.path.realpath` (against the resolved prefix) so a symlink cannot point out.
    """

    prefix: str
    relative_to: str | None = None
    resolve_symlinks_under: str | None = None

    @classmethod
    def compile(
        cls, prefix: str, relative_to: str | None = None, resolve_symlinks_under: str | None = None
    ) -> PathPrefix:
        for name, value in (("path_prefix", prefix), ("relative_to", relative_to)):
            if value is not None and not value.startswith("/"):
                raise ValueError(f"{name} must be an absolute path, got {value!r}")
        if resolve_symlinks_under is not None and not resolve_symlinks_under.startswith("/"):
            raise ValueError("resolve_symlinks_under must be an absolute path")
        return cls(
            normalize_posix(prefix),
            normalize_posix(relative_to) if relative_to else None,
            normalize_posix(resolve_symlinks_under) if resolve_symlinks_under else None,
        )

    def check(self, value: str) -> str | None:
        """None when every interpretation of `value` stays under the prefix, else why not."""
        try:
            candidates = _interpretations(value)
        except PathRejected as exc:
            return str(exc)
        for candidate in candidates:
            try:
                path = _strip_file_scheme(candidate)
            except PathRejected as exc:
                return str(exc)
            if not path.startswith("/"):
                if self.relative_to is None:
                    return "relative path not allowed"
                path = self.relative_to + "/" + path
            normalized = normalize_posix(path)
            if not is_under(normalized, self.prefix):
                return f"resolves to {normalized!r}, outside {self.prefix!r}"
            if self.resolve_symlinks_under is not None and is_under(normalized, self.resolve_symlinks_under):
                real = os.path.realpath(normalized)
                real_prefix = os.path.realpath(self.prefix)
                if not is_under(real, real_prefix):
                    return f"symlink resolves to {real!r}, outside {real_prefix!r}"
        return None


def uri_interpretations(uri: str) -> list[str]:
    """Every plausible reading of a resource URI, with dot-segments removed.

    The scheme and authority are kept as written; the path part goes through the same
    decoding stages and backslash variants as file paths, so `file:///docs/../etc`
    and its encoded forms cannot match a `file:///docs/**` grant.
    """
    scheme_end = uri.find("://")
    if scheme_end < 0:
        head, rest = "", uri
    else:
        slash = uri.find("/", scheme_end + 3)
        if slash < 0:
            return [uri.lower()]
        # Scheme and host are case-insensitive: lower them so `FILE://` cannot dodge a rule.
        head, rest = uri[:slash].lower(), uri[slash:]
    query_at = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    path, tail = rest[:query_at], rest[query_at:]
    out: list[str] = []
    for candidate in _interpretations(path):
        if candidate.startswith("/"):
            normalized = normalize_posix(candidate)
            if candidate.endswith("/") and not normalized.endswith("/"):
                normalized += "/"
        else:
            normalized = candidate
            if any(seg in ("..", ".") for seg in candidate.split("/")):
                raise PathRejected("dot-segment in a relative URI")
        full = head + normalized + tail
        if full not in out:
            out.append(full)
    return out
