"""Credentials in text: provider tokens, private keys, JWTs, connection strings.

Provider patterns come from detect-secrets' plugins so that the project follows that
maintained catalogue instead of keeping its own copy. The plugins compile them with
Python's backtracking `re`; here each one is recompiled with RE2 because the text is
attacker-controlled. The few plugin patterns RE2 cannot express (look-behind) are
skipped, and a trailing `(?!\\w)` is replaced by an explicit boundary check.
A handful of newer token formats the plugins do not know are added locally, and
`secret_forms` adds credentials recognised by their assignment (AWS secret access keys,
passwords) rather than by a prefix. Secrets wrapped in base64 or URL-encoding are found
by decoding within a budget (`secret_decode`); the whole encoded run is reported.
"""

from __future__ import annotations

import base64
import importlib
import json
import math
import pkgutil
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mcpwarden.detect.findings import Finding, Severity
from mcpwarden.detect.text._re import Match, Pattern, compile_re, encodable, try_compile
from mcpwarden.detect.text.prefilter import PatternSet
from mcpwarden.detect.text.secret_decode import BASE64_RUN, PERCENT_RUN, find_encoded
from mcpwarden.detect.text.secret_forms import (
    ASSIGNMENT,
    URL_PLACEHOLDERS,
    XML_ASSIGNMENT,
    assignment_value_ok,
    forms,
)

# detect-secrets plugin class name -> (placeholder kind, severity)
_PLUGINS: dict[str, tuple[str, Severity]] = {
    "AWSKeyDetector": ("aws-access-key", Severity.CRITICAL),
    "ArtifactoryDetector": ("artifactory-token", Severity.HIGH),
    "AzureStorageKeyDetector": ("azure-storage-key", Severity.CRITICAL),
    "CloudantDetector": ("cloudant-credential", Severity.HIGH),
    "DiscordBotTokenDetector": ("discord-token", Severity.HIGH),
    "GitHubTokenDetector": ("github-token", Severity.CRITICAL),
    "GitLabTokenDetector": ("gitlab-token", Severity.CRITICAL),
    "MailchimpDetector": ("mailchimp-key", Severity.HIGH),
    "NpmDetector": ("npm-token", Severity.HIGH),
    "OpenAIDetector": ("openai-key", Severity.CRITICAL),
    "PypiTokenDetector": ("pypi-token", Severity.CRITICAL),
    "SendGridDetector": ("sendgrid-key", Severity.HIGH),
    "SlackDetector": ("slack-token", Severity.HIGH),
    "SoftlayerDetector": ("softlayer-credential", Severity.HIGH),
    "SquareOAuthDetector": ("square-oauth-secret", Severity.HIGH),
    "StripeDetector": ("stripe-key", Severity.CRITICAL),
    "TelegramBotTokenDetector": ("telegram-token", Severity.HIGH),
    "TwilioKeyDetector": ("twilio-key", Severity.HIGH),
}

# Token formats newer than (or absent from) the detect-secrets catalogue.
_LOCAL: tuple[tuple[str, str, Severity], ...] = (
    ("anthropic-key", r"sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{80,120}", Severity.CRITICAL),
    ("openai-key", r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,200}", Severity.CRITICAL),
    ("github-token", r"github_pat_[A-Za-z0-9_]{60,100}", Severity.CRITICAL),
    ("google-api-key", r"AIza[0-9A-Za-z_\-]{35}", Severity.HIGH),
    ("huggingface-token", r"hf_[A-Za-z0-9]{34,40}", Severity.HIGH),
    ("gcp-service-account-key", r'"private_key_id"\s*:\s*"([0-9a-f]{40})"', Severity.CRITICAL),
)

_PRIVATE_KEY = (
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
    r"(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)?"
)
_PUTTY_KEY = r"PuTTY-User-Key-File-\d: [^\r\n]{1,200}"
_JWT = r"eyJ[A-Za-z0-9_\-]{4,}=*\.eyJ[A-Za-z0-9_\-]{2,}=*\.[A-Za-z0-9_\-]{0,1000}=*"
_CONNECTION = (
    r"(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|"
    r"oracle|couchdb|clickhouse|neo4j(?:\+s)?|jdbc:[a-z]+)://[^\s:/@'\"]{1,128}:([^\s@/'\"]{1,256})@[^\s'\"]{1,256}"
)
_BASIC_AUTH = (
    r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,20}://[^\s:/?#\[\]@!$&'()*+,;=]{1,128}:([^\s:/?#\[\]@!$&'()*+,;=]{1,256})@"
)
_KEYWORD_VALUE = (
    r"(?i)(?:api[_\-]?key|apikey|secret(?:[_\-]?key)?|access[_\-]?token|auth[_\-]?token|bearer|token|"
    r"passw(?:or)?d|passwd|pwd|client[_\-]?secret|private[_\-]?key|credentials?|x-api-key)"
    r"[\"']?[ \t]*(?:[:=]|=>|[ \t])[ \t]*[\"']?([A-Za-z0-9+/=_\-.~]{16,256})"
)
_BASE64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-.~"
_HEX_CHARS = "0123456789abcdefABCDEF"


@dataclass(frozen=True, slots=True)
class _Detector:
    kind: str
    severity: Severity
    pattern: Pattern
    boundary_after: bool = False


def shannon_entropy(data: str) -> float:
    """Bits per character: random tokens score high, words and identifiers low."""
    if not data:
        return 0.0
    counts: dict[str, int] = {}
    for ch in data:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _looks_random(value: str) -> bool:
    if len(value) < 16:
        return False
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    if not (has_digit and has_alpha):
        return False
    if all(c in _HEX_CHARS for c in value):
        return shannon_entropy(value) >= 3.0
    return shannon_entropy(value) >= 3.7


def _jwt_is_well_formed(token: str) -> bool:
    """Header and payload must decode to JSON objects, as detect-secrets also requires."""
    parts = token.split(".")
    if len(parts) < 2:
        return False
    for part in parts[:2]:
        raw = part.rstrip("=")
        try:
            decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
            if not isinstance(json.loads(decoded.decode("utf-8")), dict):
                return False
        except (ValueError, UnicodeDecodeError):
            return False
    return True


def _plugin_detectors() -> list[_Detector]:
    import detect_secrets.plugins as plugins_pkg
    from detect_secrets.plugins.base import RegexBasedDetector

    out: list[_Detector] = []
    classes: dict[str, Any] = {}
    for info in pkgutil.iter_modules(plugins_pkg.__path__):
        module = importlib.import_module(f"detect_secrets.plugins.{info.name}")
        for attr in vars(module).values():
            if isinstance(attr, type) and issubclass(attr, RegexBasedDetector) and attr.__name__ in _PLUGINS:
                classes[attr.__name__] = attr
    for name, (kind, severity) in _PLUGINS.items():
        cls = classes.get(name)
        if cls is None:
            continue
        for regex in cls.denylist:
            source: str = regex.pattern
            boundary = False
            if source.endswith(r"(?!\w)"):
                source, boundary = source[: -len(r"(?!\w)")], True
            compiled = try_compile(source, ignore_case=bool(regex.flags & 2))
            if compiled is not None:
                out.append(_Detector(kind, severity, compiled, boundary))
    return out


@lru_cache(maxsize=1)
def _detectors() -> tuple[_Detector, ...]:
    dets = [_Detector("private-key", Severity.CRITICAL, compile_re(_PRIVATE_KEY))]
    dets.append(_Detector("private-key", Severity.CRITICAL, compile_re(_PUTTY_KEY)))
    dets.append(_Detector("jwt", Severity.HIGH, compile_re(_JWT)))
    dets.append(_Detector("connection-string", Severity.CRITICAL, compile_re(_CONNECTION)))
    dets.extend(_Detector(k, s, compile_re(p)) for k, p, s in _LOCAL)
    dets.extend(_plugin_detectors())
    dets.append(_Detector("basic-auth", Severity.HIGH, compile_re(_BASIC_AUTH)))
    return tuple(dets)


_KEYWORD_RE = compile_re(_KEYWORD_VALUE)
# The scans `_find` runs besides the forms and detectors, in the gate's order after them.
_SCANS = (ASSIGNMENT, XML_ASSIGNMENT, BASE64_RUN, PERCENT_RUN, _KEYWORD_RE)
_ASSIGN, _XML, _BASE64, _PERCENT, _KEYWORD = range(len(_SCANS))


@dataclass(frozen=True, slots=True)
class _Matching:
    """Which of `_find`'s patterns match a text somewhere (from one `PatternSet` scan)."""

    forms: frozenset[int]
    detectors: list[int]
    scans: frozenset[int]


@lru_cache(maxsize=1)
def _gate() -> tuple[PatternSet, int, int]:
    """Every pattern `_find` runs, in one set: forms, then detectors, then `_SCANS`.

    Most text holds no secret and matches none of them; one scan proves it and the search
    ends there. Otherwise only the patterns that match are run (the set's answer is exact,
    so nothing that could find a secret is skipped; see `prefilter`).
    """
    form_patterns = [form.pattern for form in _forms()]
    detector_patterns = [det.pattern for det in _detectors()]
    gate = PatternSet([*form_patterns, *detector_patterns, *_SCANS])
    return gate, len(form_patterns), len(detector_patterns)


def _matching(text: str) -> _Matching | None:
    gate, n_forms, n_detectors = _gate()
    hits = gate.candidates(text)
    if not hits:
        return None
    scans_at = n_forms + n_detectors
    return _Matching(
        frozenset(i for i in hits if i < n_forms),
        sorted(i - n_forms for i in hits if n_forms <= i < scans_at),
        frozenset(i - scans_at for i in hits if i >= scans_at),
    )


_TRIM = " \t\r\n\"'=:"


def _span_of(m: Match, text: str) -> tuple[int, int]:
    """The secret itself, minus delimiters.

    Patterns that capture the secret (a password inside a URL) have it in a group; some
    plugin patterns only group a short prefix such as `ghp`, which is not the secret, so a
    group counts only when it is long enough to be one.
    """
    groups = m.re.groups
    start, end = m.span(0)
    if groups:
        for g in range(1, groups + 1):
            gs, ge = m.span(g)
            if gs >= 0 and ge - gs >= 6:
                start, end = gs, ge
                break
    while start < end and text[start] in _TRIM:
        start += 1
    while end > start and text[end - 1] in _TRIM:
        end -= 1
    return start, end


def _word_char_at(text: str, pos: int) -> bool:
    return pos < len(text) and (text[pos].isalnum() or text[pos] == "_")


def _overlaps(span: tuple[int, int], taken: Iterable[tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in taken)


def _url_placeholder(value: str) -> bool:
    low = value.lower()
    return low in URL_PLACEHOLDERS or low.startswith(("$", "{", "<", "%", "*"))


def _forms_pass(
    text: str, taken: list[tuple[int, int]], found: list[Finding], *, bearer: bool, matching: frozenset[int]
) -> None:
    for i, form in enumerate(_forms()):
        if (form.kind == "bearer-token") != bearer or i not in matching:
            continue
        for m in form.pattern.finditer(text):
            span = m.span(1)
            if span[1] <= span[0] or _overlaps(span, taken) or not form.followed_ok(text, span[1]):
                continue
            if form.kind == "bearer-token" and not _looks_random(text[span[0] : span[1]]):
                continue
            taken.append(span)
            found.append(Finding(f"secret.{form.kind}", form.severity, f"{form.kind} in text", span=span))


def _assignments(
    text: str, taken: list[tuple[int, int]], found: list[Finding], scans: frozenset[int]
) -> None:
    """`password = ...`, `DB_PASSWORD=...`, `"secret": "..."` with a value that reads as real."""
    for m in ASSIGNMENT.finditer(text) if _ASSIGN in scans else ():
        group = next(g for g in (3, 4, 5) if m.span(g)[0] >= 0)
        span = m.span(group)
        if _overlaps(span, taken):
            continue
        key = m.group(1)
        value = text[span[0] : span[1]]
        if not assignment_value_ok(key, m.group(2), value, quoted=group != 5, following=text[span[1] :]):
            continue
        _add_assignment(key, span, taken, found)
    for m in XML_ASSIGNMENT.finditer(text) if _XML in scans else ():
        span = m.span(2)
        if _overlaps(span, taken) or not assignment_value_ok(
            m.group(1), ">", m.group(2), quoted=True, following=""
        ):
            continue
        _add_assignment(m.group(1), span, taken, found)


def _add_assignment(
    key: str, span: tuple[int, int], taken: list[tuple[int, int]], found: list[Finding]
) -> None:
    kind = "secret" if "secret" in key.lower() and "pass" not in key.lower() else "password"
    taken.append(span)
    found.append(Finding(f"secret.{kind}", Severity.HIGH, f"{kind} assignment in text", span=span))


def _decoded(text: str, taken: list[tuple[int, int]], found: list[Finding]) -> None:
    def detect(decoded: str) -> list[tuple[str, str]]:
        return [(f.rule.split(".", 1)[1], "") for f in _find(decoded, entropy=True, decode=False)]

    for span, kind, how in find_encoded(text, detect):
        if _overlaps(span, taken):
            continue
        taken.append(span)
        found.append(Finding(f"secret.{kind}", Severity.HIGH, f"{kind} inside {how}-encoded text", span=span))


def find_secrets(text: str, *, entropy: bool = True) -> list[Finding]:
    """Credentials in `text`, each as a `secret.<kind>` finding with its span.

    Earlier detectors win on overlap (a connection string is not also reported as basic
    auth). `entropy` adds random-looking values that follow a credential keyword, such
    as `api_key = "..."`, which is where unknown token formats usually appear.
    """
    return _find(encodable(text), entropy=entropy, decode=True)


def _find(text: str, *, entropy: bool, decode: bool) -> list[Finding]:
    matching = _matching(text)
    if matching is None:
        return []
    found: list[Finding] = []
    taken: list[tuple[int, int]] = []
    _forms_pass(text, taken, found, bearer=False, matching=matching.forms)
    detectors = _detectors()
    for i in matching.detectors:
        det = detectors[i]
        for m in det.pattern.finditer(text):
            span = _span_of(m, text)
            if span[1] <= span[0] or _overlaps(span, taken):
                continue
            if det.boundary_after and _word_char_at(text, span[1]):
                continue
            value = text[span[0] : span[1]]
            if det.kind == "jwt" and not _jwt_is_well_formed(value):
                continue
            if det.kind in {"connection-string", "basic-auth"} and _url_placeholder(value):
                continue
            taken.append(span)
            found.append(Finding(f"secret.{det.kind}", det.severity, f"{det.kind} in text", span=span))
    # after the JWT detector, which names it better
    _forms_pass(text, taken, found, bearer=True, matching=matching.forms)
    _assignments(text, taken, found, matching.scans)
    if decode and not matching.scans.isdisjoint((_BASE64, _PERCENT)):
        _decoded(text, taken, found)
    if entropy and _KEYWORD in matching.scans:
        for m in _KEYWORD_RE.finditer(text):
            span = m.span(1)
            if _overlaps(span, taken) or not _looks_random(text[span[0] : span[1]]):
                continue
            taken.append(span)
            found.append(
                Finding(
                    "secret.high-entropy",
                    Severity.MEDIUM,
                    "random-looking value after a credential keyword",
                    span=span,
                )
            )
    found.sort(key=lambda f: f.span or (0, 0))
    return found


@lru_cache(maxsize=1)
def _forms() -> tuple[Any, ...]:
    return forms()
