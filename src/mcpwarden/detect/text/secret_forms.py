"""Credentials recognised by where they are written rather than by a provider prefix.

detect-secrets finds tokens that announce themselves (`AKIA...`, `ghp_...`, `xoxb-...`).
The secrets that leak most often do not: an AWS secret access key is 40 plain base64
characters, a database password is whatever someone typed. They are recognised by the
assignment around them, in the forms they take in env files, shell, INI, YAML, JSON and
source code (`AWS_SECRET_ACCESS_KEY=...`, `aws_secret_access_key = ...`,
`"SecretAccessKey": "..."`, `password: ...`), plus a few formats the detect-secrets
catalogue lacks (Azure keys and SAS signatures, npm automation tokens, newer Stripe keys,
`Authorization:` headers).

Assignments are where code is full of false positives (`password = get_password()`,
`password: str`, `password=${DB_PASSWORD}`), so each candidate value is checked against
what code, templates and documentation put there instead of a secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcpwarden.detect.findings import Severity
from mcpwarden.detect.text._re import Pattern, compile_re

_SEP = r"[\"']?[ \t]*(?:=>|:=|[:=])[ \t]*"

# (kind, pattern with the secret in group 1, severity, characters that may not follow it)
_FORMS: tuple[tuple[str, str, Severity, str], ...] = (
    (
        "aws-secret-key",
        r"(?i)(?:aws[_\-.]?secret[_\-.]?(?:access[_\-.]?)?key|secret[_\-.]?access[_\-.]?key)"
        + _SEP
        + r"[\"']?([A-Za-z0-9/+]{40})",
        Severity.CRITICAL,
        "A-Za-z0-9/+=",
    ),
    (
        "stripe-key",
        r"\b((?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,247}|whsec_[0-9A-Za-z]{32,64})",
        Severity.CRITICAL,
        "0-9A-Za-z",
    ),
    ("npm-token", r"\b(npm_[A-Za-z0-9]{36})", Severity.HIGH, "A-Za-z0-9"),
    (
        "npm-token",
        r"(?i)(?:^|[\s;])(?://[^\s:]{1,200}/)?:?_auth(?:Token)?\s*=\s*[\"']?([A-Za-z0-9+/=\-_.]{16,512})",
        Severity.HIGH,
        "",
    ),
    (
        "azure-key",
        r"(?i)(?:AccountKey|SharedAccessKey|SharedSecretValue|AccessKey)\s*=\s*([A-Za-z0-9+/]{20,100}={0,2})",
        Severity.CRITICAL,
        "A-Za-z0-9+/=",
    ),
    ("azure-sas", r"(?i)[?&;]sig=([A-Za-z0-9%+/]{30,200}(?:%3D|=){0,2})", Severity.CRITICAL, ""),
    (
        "bearer-token",
        r"(?i)\b(?:authorization\s*[:=]\s*[\"']?)?bearer\s+([A-Za-z0-9\-._~+/]{20,1000}=*)",
        Severity.HIGH,
        "",
    ),
    (
        "slack-token",
        r"\b(xapp-\d-[A-Z0-9]{9,12}-\d{10,14}-[a-z0-9]{32,80})",
        Severity.HIGH,
        "a-z0-9",
    ),
)

_ASSIGNMENT = compile_re(
    r"(?i)([A-Za-z0-9_.\-]{0,40}(?:passw(?:or)?d|passwd|pwd|passphrase|secret)[A-Za-z0-9_\-]{0,40})"
    r"[\"']?([ \t]*(?:=>|:=|[:=])[ \t]*)"
    r"(?:\"([^\"\r\n]{1,200})\"|'([^'\r\n]{1,200})'|([^\s\"',;#()\[\]{}<>]{1,200}))"
)
_KEY_SUFFIXES = (
    "name", "ref", "path", "file", "dir", "type", "field", "arn", "env", "var", "id", "ids", "url",
    "uri", "length", "len", "policy", "mode", "store", "manager", "provider", "prompt", "hint",
    "label", "format", "regex", "pattern", "required", "enabled", "min", "max", "rule", "rules",
    "reset", "change", "changed", "expiry", "expires", "expiration", "version", "count", "source",
    "class", "key_ref", "mount", "volume", "backend", "engine", "scope", "scopes", "changeme",
    "secrets", "confirm", "confirmation", "strength", "valid", "validator", "help", "text", "title",
    "description", "visible", "toggle", "input", "widget", "form", "error", "errors", "placeholder",
)  # fmt: skip
_PLACEHOLDERS = frozenset(
    {
        "none", "null", "nil", "true", "false", "undefined", "required", "optional", "string",
        "str", "bytes", "int", "bool", "secretstr", "any", "object", "password", "passwd",
        "secret", "your_password", "yourpassword", "your-password", "changeme", "change_me",
        "example", "placeholder", "redacted", "hidden", "masked", "xxxx", "todo", "tbd", "empty",
        "see", "the", "your", "a", "an", "is", "must", "should", "will", "not", "set", "enter",
        "use", "provided", "text", "field", "value", "type", "default", "same", "below", "above",
        "prompt", "ask", "env", "environment", "file", "self", "this", "config", "settings",
    }
)  # fmt: skip
_TEMPLATE_STARTS = (
    "$",
    "{",
    "<",
    "%",
    "[",
    "(",
    "*",
    "…",
    "#",
    "@",
    "/",
    "./",
    "~/",
    "&",
    "!",
    "`",
    "\\",
    "?",
)


@dataclass(frozen=True, slots=True)
class Form:
    kind: str
    severity: Severity
    pattern: Pattern
    not_after: str  # characters that may not follow the secret (RE2 has no look-ahead)

    def followed_ok(self, text: str, end: int) -> bool:
        if not self.not_after or end >= len(text):
            return True
        ch = text[end]
        return not _in_class(ch, self.not_after)


def _in_class(ch: str, spec: str) -> bool:
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            if spec[i] <= ch <= spec[i + 2]:
                return True
            i += 3
        else:
            if ch == spec[i]:
                return True
            i += 1
    return False


def forms() -> tuple[Form, ...]:
    return tuple(Form(kind, sev, compile_re(p), after) for kind, p, sev, after in _FORMS)


def _identifier_like(value: str) -> bool:
    return value.replace("_", "a").replace(".", "a").replace("-", "a").isalpha() or (
        value[:1].isalpha() and all(c.isalnum() or c in "_." for c in value) and "." in value
    )


def assignment_value_ok(key: str, sep: str, value: str, *, quoted: bool, following: str) -> bool:
    """Whether `value`, assigned to `key`, reads as a real password or secret.

    Rejected: templates and references (`${X}`, `{{x}}`, `<password>`, `%(pw)s`, paths),
    placeholders and type names (`None`, `str`, `changeme`, `your_password`), masks
    (`****`), unquoted code (`self.password`, `password = pw_value`, `f(password=password)`),
    prose (`password: see below`) and keys that only name a secret (`secret_name:`).
    """
    k = key.lower().strip("_-.")
    if k.endswith(_KEY_SUFFIXES) and not k.endswith(("password", "passwd", "pwd", "secret")):
        return False
    v = value.strip()
    low = v.lower()
    if len(v) < 4 or low in _PLACEHOLDERS or low.startswith(_TEMPLATE_STARTS):
        return False
    if "${" in v or "{{" in v or "(" in v or "://" in v or len(set(low)) <= 2:
        return False
    if any(w in low for w in ("example", "placeholder", "your_", "your-", "<", "xxxx", "****")):
        return False
    if quoted:
        return len(v.split()) < 3  # a sentence in quotes is a label, not a password
    if _identifier_like(v):
        spaced_equals = "=" in sep and sep != sep.strip()
        if "." in v or spaced_equals or low == k or following[:1] in {")", ","}:
            return False
        if any(w in low for w in ("pass", "pwd", "secret", "token", "key")):
            return False
    return True


ASSIGNMENT = _ASSIGNMENT
# <password>...</password> in XML configuration (Maven settings, Tomcat users, ...).
XML_ASSIGNMENT = compile_re(
    r"(?i)<([A-Za-z0-9_.\-]{0,40}(?:passw(?:or)?d|passwd|pwd|passphrase|secret)[A-Za-z0-9_\-]{0,40})>"
    r"([^<\s]{1,200})</"
)
# Values in URLs and connection strings that only show where a password goes.
URL_PLACEHOLDERS = frozenset(
    {"password", "pass", "passwd", "pwd", "secret", "xxx", "xxxx", "***", "****", "changeme"}
)
