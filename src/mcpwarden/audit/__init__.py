"""Tamper-evident audit trail: hash-chained JSONL records of every request and decision.

See docs/audit.md for the record format, the fsync policies and what `verify` detects.
"""

from mcpwarden.audit.canonical import args_digest, canonical_json
from mcpwarden.audit.events import AuditEvent
from mcpwarden.audit.head import HeadAnchor, HeadError, head_path, read_head
from mcpwarden.audit.jsonl import AuditLog, AuditUnavailable, FsyncPolicy
from mcpwarden.audit.resume import AuditChainError
from mcpwarden.audit.sink import AuditSink
from mcpwarden.audit.verify import VerifyResult, verify

__all__ = [
    "AuditChainError",
    "AuditEvent",
    "AuditLog",
    "AuditSink",
    "AuditUnavailable",
    "FsyncPolicy",
    "HeadAnchor",
    "HeadError",
    "VerifyResult",
    "args_digest",
    "canonical_json",
    "head_path",
    "read_head",
    "verify",
]
