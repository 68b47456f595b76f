"""Audit destinations beyond the JSONL file: stdout, syslog (RFC 5424 + CEF), HTTP webhook, OTLP.

Each sink is a `QueuedSink` (bounded queue, background sender, drop counter); the
`AuditFanout` writes the file first and feeds the sinks redacted copies. See docs/audit.md.
"""

from mcpwarden.audit.sinks.fanout import AuditFanout, Observer
from mcpwarden.audit.sinks.queue import QueuedSink, SinkStats

__all__ = ["AuditFanout", "Observer", "QueuedSink", "SinkStats"]
