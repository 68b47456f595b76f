"""The interface every audit destination implements.

Only the JSONL file sink exists today; syslog/CEF and OTLP sinks will implement the same
two methods so the gateway never needs to know where its records go.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from mcpwarden.audit.events import AuditEvent


@runtime_checkable
class AuditSink(Protocol):
    def write(self, event: AuditEvent | dict[str, Any]) -> dict[str, Any]:
        """Record one event; return the record as written. Must be cheap and thread-safe."""
        ...

    def close(self) -> None:
        """Make everything written durable and release the destination."""
        ...
