"""OTLP logs sink: each record becomes an OpenTelemetry log record, exported over OTLP/HTTP.

Records go through the OpenTelemetry SDK (a `LoggerProvider` and its `Logger`), so the
resource, scope and attribute limits are the SDK's own; the batches are ours (the sink's
bounded queue and thread), so an unreachable collector costs the request path nothing and
shows in the same drop counter as every other sink. The record's fields become log
attributes under `mcpwarden.*`; the body is the record's message or event kind. The
resource names the gateway: `service.name`, `service.version` and, for the replica id,
OpenTelemetry's `service.instance.id`, which collectors index to tell instances apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import (
    LoggerProvider,
    LogRecordProcessor,
    ReadableLogRecord,
    ReadWriteLogRecord,
    SynchronousMultiLogRecordProcessor,
)
from opentelemetry.sdk._logs.export import LogRecordExportResult
from opentelemetry.sdk.resources import Resource

from mcpwarden import __version__
from mcpwarden.audit.canonical import canonical_json
from mcpwarden.audit.sinks.queue import QueuedSink, Record

_SEVERITY = {
    "alert": (SeverityNumber.ERROR, "ERROR"),
    "deny": (SeverityNumber.WARN, "WARN"),
    "error": (SeverityNumber.WARN, "WARN"),
}
_INFO = (SeverityNumber.INFO, "INFO")


class _Collect(LogRecordProcessor):
    """Keeps what the logger emitted so the sink exports it as one batch."""

    def __init__(self) -> None:
        self.records: list[ReadableLogRecord] = []

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        resource = log_record.resource if log_record.resource is not None else Resource.create({})
        self.records.append(
            ReadableLogRecord(
                log_record=log_record.log_record,
                resource=resource,
                instrumentation_scope=log_record.instrumentation_scope,
                limits=log_record.limits,
            )
        )

    def shutdown(self) -> None:
        self.records.clear()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _attributes(record: Record) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"mcpwarden.{key}"
        if isinstance(value, bool | int | float | str):
            out[name] = value
        elif value is not None:
            out[name] = canonical_json(value).decode()
    return out


def _resource(service_name: str, instance_id: str | None) -> dict[str, str]:
    resource = {"service.name": service_name, "service.version": __version__}
    if instance_id is not None:
        resource["service.instance.id"] = instance_id
    return resource


def _nanos(timestamp: Any) -> int | None:
    if not isinstance(timestamp, str):
        return None
    try:
        return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1_000_000_000)
    except ValueError:
        return None


class OtlpSink(QueuedSink):
    kind = "otlp"

    def __init__(
        self,
        name: str,
        *,
        endpoint: str,
        headers: dict[str, str] | None = None,
        timeout_s: float = 5.0,
        service_name: str = "mcpwarden",
        instance_id: str | None = None,
        **queue: Any,
    ) -> None:
        super().__init__(name, **queue)
        self.endpoint = endpoint
        self._exporter = OTLPLogExporter(endpoint=endpoint, headers=headers, timeout=timeout_s)
        self._collect = _Collect()
        processors = SynchronousMultiLogRecordProcessor()  # type: ignore[no-untyped-call]
        processors.add_log_record_processor(self._collect)
        self._provider = LoggerProvider(
            resource=Resource.create(_resource(service_name, instance_id)),
            shutdown_on_exit=False,
            multi_log_record_processor=processors,
        )
        self._logger = self._provider.get_logger("mcpwarden.audit", __version__)

    def send(self, batch: list[Record]) -> None:
        self._collect.records = []
        for record in batch:
            severity, text = (
                _SEVERITY["alert"]
                if record.get("event") == "alert"
                else _SEVERITY.get(str(record.get("decision")), _INFO)
            )
            self._logger.emit(
                timestamp=_nanos(record.get("time")),
                severity_number=severity,
                severity_text=text,
                body=str(record.get("message") or record.get("event", "event")),
                attributes=_attributes(record),
                event_name=f"mcpwarden.{record.get('event', 'event')}",
            )
        result = self._exporter.export(self._collect.records)
        self._collect.records = []
        if result is not LogRecordExportResult.SUCCESS:
            raise ConnectionError(f"OTLP export to {self.endpoint} failed")

    def shutdown(self) -> None:
        self._exporter.shutdown()  # type: ignore[no-untyped-call]
        self._provider.shutdown()
