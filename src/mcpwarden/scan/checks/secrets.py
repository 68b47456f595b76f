"""Credentials written into configs, found by the shared secrets detector on the values.

Values are scanned with their key in front (`API_KEY=value`, `Authorization: value`)
because the detector's keyword rule needs that context to recognise token formats it
has no pattern for. A secret-sounding key holding a literal, random-looking value is
reported too, at lower severity, as the detector cannot know every vendor's format.
"""

from __future__ import annotations

import math
from collections import Counter

import re2

from mcpwarden.detect.findings import Finding, Severity
from mcpwarden.detect.text import find_secrets
from mcpwarden.scan.analysis import ServerAnalysis
from mcpwarden.scan.checks.base import CheckContext
from mcpwarden.scan.model import REDACTED, Issue, ServerEntry

_SECRET_KEY = re2.compile(
    r"(?i)(token|secret|passw(or)?d|passwd|pwd|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"credential|auth|bearer|session|cookie|signature|dsn)"
)
_PLACEHOLDER = re2.compile(
    r"^\s*(\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|%[A-Za-z_][A-Za-z0-9_]*%|\{\{[^}]*\}\}|<[^>]*>|\[[^\]]*\])\s*$"
)
_REFERENCE = re2.compile(r"\$\{[^}]*\}|\{\{[^}]*\}\}|\$[A-Za-z_][A-Za-z0-9_]*")
_PLACEHOLDER_WORDS = re2.compile(
    r"(?i)(your|example|changeme|replace|placeholder|dummy|xxxx|redacted|\*\*\*)"
)


def _secret_spans(text: str, start: int) -> list[Finding]:
    """Findings whose span lies (at least partly) at or after `start`, i.e. in the value."""
    return [f for f in find_secrets(text) if f.span is None or f.span[1] > start]


def _kind(f: Finding) -> str:
    return f.rule.removeprefix("secret.")


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())


def _looks_like_literal_secret(value: str) -> bool:
    v = value.strip()
    if (
        len(v) < 12
        or " " in v
        or _PLACEHOLDER.match(v)
        or _REFERENCE.search(v)
        or _PLACEHOLDER_WORDS.search(v)
    ):
        return False
    if v.lower() in ("true", "false", "null", "none") or v.replace(".", "").isdigit():
        return False
    if v.startswith(("/", "~", "./", "http://", "https://")) or (
        len(v) > 2 and v[1] == ":" and v[2] in "\\/"
    ):
        return False
    has_alpha = any(c.isalpha() for c in v)
    has_digit = any(c.isdigit() for c in v)
    return has_alpha and has_digit and _entropy(v) >= 3.0


def _issue(entry: ServerEntry, severity: Severity, message: str, field: str, kind: str) -> Issue:
    return Issue.at(entry, "MCPW-S005", severity, message, field_name=field, kind=kind)


def _joined_args(args: tuple[str, ...]) -> tuple[str, list[int]]:
    starts: list[int] = []
    pos = 0
    for a in args:
        starts.append(pos)
        pos += len(a) + 1
    return " ".join(args), starts


def _arg_index(starts: list[int], offset: int) -> int:
    index = 0
    for i, s in enumerate(starts):
        if s <= offset:
            index = i
    return index


def check_secrets(analysis: ServerAnalysis, ctx: CheckContext) -> list[Issue]:
    entry = analysis.entry
    issues: list[Issue] = []
    for where, mapping, sep in (("env", entry.env, "="), ("headers", entry.headers, ": ")):
        for key, value in mapping.items():
            prefix = f"{key}{sep}"
            found = _secret_spans(prefix + value, len(prefix))
            label = "env" if where == "env" else "header"
            if found:
                top = max(found, key=lambda f: f.severity)
                issues.append(
                    _issue(
                        entry,
                        max(top.severity, Severity.MEDIUM),
                        f"{label} {key} holds a plaintext {_kind(top)}",
                        f"{where}.{key}",
                        _kind(top),
                    )
                )
            elif _SECRET_KEY.search(key) and _looks_like_literal_secret(
                value.removeprefix("Bearer ").strip()
            ):
                issues.append(
                    _issue(
                        entry,
                        Severity.MEDIUM,
                        f"{label} {key} holds a literal, random-looking value; use a secret store",
                        f"{where}.{key}",
                        "literal-credential",
                    )
                )
    text, starts = _joined_args(entry.args)
    seen_args: set[int] = set()
    for f in find_secrets(text) if text else []:
        # The span's last character decides: a keyword rule's span covers only the value.
        index = _arg_index(starts, max(f.span[0], f.span[1] - 1) if f.span else 0)
        if index in seen_args:
            continue
        seen_args.add(index)
        issues.append(
            _issue(
                entry,
                max(f.severity, Severity.MEDIUM),
                f"argument {index} holds a plaintext {_kind(f)}",
                f"args.{index}",
                _kind(f),
            )
        )
    if entry.url:
        found = find_secrets(entry.url)
        if found:
            top = max(found, key=lambda f: f.severity)
            issues.append(
                _issue(
                    entry,
                    max(top.severity, Severity.MEDIUM),
                    f"url holds a plaintext {_kind(top)}",
                    "url",
                    _kind(top),
                )
            )
    return issues


def mask_text(text: str) -> str:
    """`text` with every secret the detector finds replaced, for messages and reports."""
    spans = sorted(f.span for f in find_secrets(text) if f.span is not None)
    out: list[str] = []
    pos = 0
    for start, end in spans:
        if start < pos:
            continue
        out.append(text[pos:start])
        out.append(REDACTED)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def masked_view(entry: ServerEntry) -> tuple[tuple[str, ...], str | None]:
    """Arguments and URL with every detected secret replaced, for reports."""
    args = list(entry.args)
    text, starts = _joined_args(entry.args)
    if text:
        hit = {
            _arg_index(starts, max(f.span[0], f.span[1] - 1))
            for f in find_secrets(text)
            if f.span is not None
        }
        for i in hit:
            args[i] = mask_text(args[i]) if mask_text(args[i]) != args[i] else REDACTED
    return tuple(args), (mask_text(entry.url) if entry.url else None)
