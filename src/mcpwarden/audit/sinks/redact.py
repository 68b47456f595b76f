"""What a record looks like once it leaves the host: secrets and session ids removed.

The JSONL file is local and access-controlled; a syslog collector, a webhook into a chat
channel or an OTLP pipeline is read by many more people. So before any sink sees a record:
- every string leaf is scanned by the secret detector and matches are replaced by
  placeholders (`[REDACTED:kind:n]`);
- raw `arguments` (kept in the file only with `include_raw_arguments`) are dropped, since
  `args_sha256` already identifies them;
- the session id, which is a bearer credential for the session, becomes a short SHA-256
  handle (the same one `mcpwarden sessions` shows), still good for correlation.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from mcpwarden.detect.findings import Finding
from mcpwarden.detect.text.redact import Redactor
from mcpwarden.detect.text.secrets import find_secrets

# Fields the gateway fills itself with identifiers, numbers and hashes, never free text;
# the rest (message, details, anything new) is scanned.
_SAFE_FIELDS = frozenset(
    {
        "time",
        "event",
        "seq",
        "prev",
        "hash",
        "chain",
        "args_sha256",
        "latency_ms",
        "request_bytes",
        "response_bytes",
        "decision",
        "guard",
        "reason",
        "upstream",
        "method",
        "principal",
        "request_id",
    }
)
MAX_DEPTH = 32
HANDLE_CHARS = 16
# Shorter strings are below every credential format the detector knows.
MIN_SECRET_CHARS = 12


def session_handle(session_id: str) -> str:
    """The prefix of the session's SHA-256 handle, as listed by `mcpwarden sessions`."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:HANDLE_CHARS]


def redact_record(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of `record` that is safe to ship off the host."""
    redactor = Redactor()
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "arguments":
            continue
        if key == "session" and isinstance(value, str):
            out[key] = session_handle(value)
        elif key in _SAFE_FIELDS:
            out[key] = value
        else:
            out[key] = _redact_value(value, redactor, 0)
    return out


def _redact_value(value: Any, redactor: Redactor, depth: int) -> Any:
    if isinstance(value, str):
        if len(value) < MIN_SECRET_CHARS:
            return value
        findings = _secrets_in(value)
        return redactor.redact(value, findings) if findings else value
    if depth >= MAX_DEPTH:
        return "[REDACTED:too_deep]"
    if isinstance(value, dict):
        return {k: _redact_value(v, redactor, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v, redactor, depth + 1) for v in value]
    return value


@lru_cache(maxsize=4096)
def _secrets_in(text: str) -> tuple[Finding, ...]:
    """Findings per distinct string: reasons and messages repeat across records."""
    return tuple(find_secrets(text))
