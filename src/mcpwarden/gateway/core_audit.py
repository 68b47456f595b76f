"""How the gateway writes its audit records: events, the record before a request goes
anywhere, and the record of its outcome.

A mixin of `GatewayCore`, kept apart so that the core stays about lifecycle and sessions.
It needs only `audit` (the writer) and `config` from the class it is mixed into.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from mcpwarden.audit import AuditEvent, AuditUnavailable
from mcpwarden.gateway.errors import AuditRefused

if TYPE_CHECKING:
    from mcpwarden.config import GatewayConfig
    from mcpwarden.gateway.pipeline import AuditWriter

log = logging.getLogger("mcpwarden.gateway")

STANDARD_FIELDS = frozenset(f.name for f in dataclasses.fields(AuditEvent))


class AuditMethods:
    audit: AuditWriter | None
    config: GatewayConfig

    def audit_event(self, event: str, **fields: Any) -> None:
        if self.audit is None:
            return
        record: dict[str, Any] = {"event": event}
        extra: dict[str, Any] = {}
        for key, value in fields.items():
            if value is None:
                continue
            if key in STANDARD_FIELDS:
                record[key] = value
            else:
                extra[key] = value  # event-specific: goes under details, as the log requires
        if extra:
            record["details"] = {**record.get("details", {}), **extra}
        try:
            self.audit.write(record)
        except AuditUnavailable:
            pass  # logged once by the log itself; counted and reported when it is writable again
        except Exception:  # an audit failure is logged loudly but must not kill the request path
            log.exception("audit write failed")

    async def audit_request_start(self, **fields: Any) -> None:
        """The record written before a request is forwarded anywhere ("audit before effect").

        Under `fsync: always` it is on disk when this returns (the wait runs in a worker
        thread). Raises `AuditRefused` when it cannot be written and the config says refuse.
        """
        if self.audit is None:
            return
        record: dict[str, Any] = {"event": "request.start"}
        for key, value in fields.items():
            if value is not None:
                record[key] = value
        awrite = getattr(self.audit, "awrite", None)
        try:
            if awrite is not None:
                await awrite(record)
            else:
                self.audit.write(record)
        except AuditUnavailable as exc:
            if self.config.audit.on_failure == "refuse":
                raise AuditRefused(
                    f"the gateway cannot write its audit trail ({exc}); the request was not forwarded"
                ) from exc

    def audit_request(self, *, arguments: Any = None, **fields: Any) -> None:
        if self.audit is None:
            return
        record: dict[str, Any] = {"event": "request", **fields}
        if arguments is not None:
            # The audit log digests the arguments and keeps them raw only if configured to.
            record["arguments"] = arguments
        record["latency_ms"] = round(record.get("latency_ms", 0.0), 3)
        self.audit_event(**record)
