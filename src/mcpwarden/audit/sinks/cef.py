"""ArcSight Common Event Format (CEF) for audit records: what SIEM collectors parse.

`CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|key=value ...`. Header fields
escape `\\` and `|`; extension values escape `\\`, `=` and line breaks. Fields without a
standard CEF key use the custom string/number slots with their labels (`cs1Label=...`).
The gateway replica that wrote the record travels as `deviceExternalId` (CEF's "name that
uniquely identifies the device generating this event"), so a SIEM fed by several replicas
can tell them apart and match each event to that replica's audit chain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mcpwarden import __version__

# CEF severity 0-10, by event and decision.
_SEVERITY = {"alert": 8, "deny": 6, "error": 5, "rewrite": 4}
# (custom key, label, record field)
_CUSTOM = (
    ("cs1", "session", "session"),
    ("cs2", "upstream", "upstream"),
    ("cs3", "tool", "tool"),
    ("cs4", "method", "method"),
    ("cs5", "guard", "guard"),
    ("cs6", "chainHash", "hash"),
    ("cn1", "latencyMs", "latency_ms"),
)
_STANDARD = (
    ("suser", "principal"),
    ("act", "decision"),
    ("reason", "reason"),
    ("msg", "message"),
    ("in", "request_bytes"),
    ("out", "response_bytes"),
    ("externalId", "seq"),
    ("cat", "event"),
    ("deviceExternalId", "replica"),
)


def severity(record: dict[str, Any]) -> int:
    if record.get("event") == "alert":
        return _SEVERITY["alert"]
    return _SEVERITY.get(str(record.get("decision")), 3)


def _header(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _ext(value: Any) -> str:
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("=", "\\=")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def _epoch_ms(timestamp: Any) -> int | None:
    if not isinstance(timestamp, str):
        return None
    try:
        return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def to_cef(record: dict[str, Any]) -> str:
    """One record as a CEF line (no trailing newline)."""
    event = str(record.get("event", "event"))
    signature = record.get("reason") or event
    name = record.get("message") or event
    parts: list[str] = []
    rt = _epoch_ms(record.get("time"))
    if rt is not None:
        parts.append(f"rt={rt}")
    for key, field in _STANDARD:
        if record.get(field) is not None:
            parts.append(f"{key}={_ext(record[field])}")
    for key, label, field in _CUSTOM:
        if record.get(field) is not None:
            parts.append(f"{key}Label={label}")
            parts.append(f"{key}={_ext(record[field])}")
    header = "|".join(
        (
            "CEF:0",
            "mcpwarden",
            "mcpwarden",
            _header(__version__),
            _header(signature),
            _header(name),
            str(severity(record)),
        )
    )
    return f"{header}|{' '.join(parts)}"
