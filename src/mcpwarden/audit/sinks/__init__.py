"""Audit destinations beyond the JSONL file: stdout, syslog (RFC 5424 + CEF), HTTP webhook, OTLP.

Each sink is a `QueuedSink` (bounded queue, background sender, drop counter); the
`AuditFanout` writes the file first and feeds the sinks redacted copies. See docs/audit.md.

The package imports nothing eagerly: `mcpwarden.config` reads `sinks.config`, and the
fan-out pulls in the secret detector (numpy), which light CLI commands must not pay for.
"""
