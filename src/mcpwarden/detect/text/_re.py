"""Compiling patterns for attacker-controlled text.

Every pattern in this package runs on text an attacker may control, so each one is
compiled with RE2 (linear time, no catastrophic backtracking) through this helper,
which also keeps RE2 from logging to stderr when a borrowed pattern uses syntax it
does not support.
"""

from __future__ import annotations

from typing import TypeAlias

import re2

Pattern: TypeAlias = "re2._Regexp[str]"
Match: TypeAlias = "re2._Match[str]"


def _options(ignore_case: bool) -> re2.Options:
    opts = re2.Options()
    opts.log_errors = False
    opts.case_sensitive = not ignore_case
    return opts


def compile_re(pattern: str, *, ignore_case: bool = False) -> Pattern:
    """Compile `pattern` with RE2; raises `re2.error` when RE2 cannot express it."""
    return re2.compile(pattern, options=_options(ignore_case))


def try_compile(pattern: str, *, ignore_case: bool = False) -> Pattern | None:
    """Compile or return None: used for patterns borrowed from libraries written for `re`."""
    try:
        return compile_re(pattern, ignore_case=ignore_case)
    except re2.error:
        return None


def encodable(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD, length and offsets unchanged.

    RE2 matches UTF-8 and cannot take them, and JSON parsers let them through.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
    return text
