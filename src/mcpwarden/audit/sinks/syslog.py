"""Syslog sink: RFC 5424 messages with a CEF payload, over UDP, TCP or TLS.

UDP sends one message per datagram (RFC 5426) and never learns of loss; TCP and TLS
use octet-counting framing (`LEN SP MSG`, RFC 6587 / RFC 5425) on one connection that is
re-opened after a failure, with the sink's retry and backoff. Each message is capped at
`max_message_bytes` (the CEF text is cut, never the syslog header), so a huge `details`
cannot make a datagram fail or a collector choke. The structured data names the record's
chain, seq and (several replicas) replica, so a collector can index by them without parsing
the CEF text.
"""

from __future__ import annotations

import os
import socket
import ssl
from datetime import UTC, datetime
from typing import Any, Literal

from mcpwarden.audit.sinks.cef import to_cef
from mcpwarden.audit.sinks.queue import QueuedSink, Record

Transport = Literal["udp", "tcp", "tls"]
# Private enterprise number reserved for documentation (RFC 5612), for our SD-ID.
SD_ID = "mcpwarden@32473"
# Syslog severity (RFC 5424) by CEF-ish weight of the record.
_SYSLOG_SEVERITY = {"alert": 2, "deny": 4, "error": 3}
_NILVALUE = "-"
# Record fields repeated as structured-data parameters, for collectors that index on them.
_SD_FIELDS = ("seq", "chain", "replica")


def _syslog_severity(record: Record) -> int:
    if record.get("event") == "alert":
        return _SYSLOG_SEVERITY["alert"]
    return _SYSLOG_SEVERITY.get(str(record.get("decision")), 6)


def _printable(value: str, limit: int) -> str:
    """Header fields are PRINTUSASCII without spaces (RFC 5424 section 6)."""
    cleaned = "".join(c if 33 <= ord(c) <= 126 else "_" for c in value)
    return cleaned[:limit] or _NILVALUE


def _sd_param(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def format_rfc5424(
    record: Record, *, facility: int, hostname: str, app_name: str, procid: str, max_bytes: int
) -> bytes:
    """One record as an RFC 5424 message: header, structured data, BOM + CEF text."""
    pri = facility * 8 + _syslog_severity(record)
    timestamp = record.get("time")
    if not isinstance(timestamp, str):
        timestamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    msgid = _printable(str(record.get("event", "event")), 32)
    params = [f'{k}="{_sd_param(record[k])}"' for k in _SD_FIELDS if record.get(k) is not None]
    sd = f"[{SD_ID} {' '.join(params)}]" if params else _NILVALUE
    head = (
        f"<{pri}>1 {timestamp} {_printable(hostname, 255)} {_printable(app_name, 48)} "
        f"{_printable(procid, 128)} {msgid} {sd} "
    ).encode()
    body = b"\xef\xbb\xbf" + to_cef(record).encode("utf-8", "replace")
    room = max(0, max_bytes - len(head))
    if len(body) > room:
        body = body[:room].decode("utf-8", "ignore").encode()
    return head + body


class SyslogSink(QueuedSink):
    kind = "syslog"

    def __init__(
        self,
        name: str,
        *,
        host: str,
        port: int,
        transport: Transport = "udp",
        facility: int = 13,
        app_name: str = "mcpwarden",
        hostname: str | None = None,
        max_message_bytes: int = 8192,
        ca_file: str | None = None,
        server_name: str | None = None,
        connect_timeout_s: float = 5.0,
        **queue: Any,
    ) -> None:
        super().__init__(name, **queue)
        self.host = host
        self.port = port
        self.transport: Transport = transport
        self.facility = facility
        self.app_name = app_name
        self.hostname = hostname or socket.gethostname()
        self.max_message_bytes = max_message_bytes
        self.connect_timeout_s = connect_timeout_s
        self.server_name = server_name or host
        self._procid = str(os.getpid())
        self._sock: socket.socket | None = None
        self._tls: ssl.SSLContext | None = None
        if transport == "tls":
            self._tls = ssl.create_default_context(cafile=ca_file)

    def format(self, record: Record) -> bytes:
        return format_rfc5424(
            record,
            facility=self.facility,
            hostname=self.hostname,
            app_name=self.app_name,
            procid=self._procid,
            max_bytes=self.max_message_bytes,
        )

    def _connect(self) -> socket.socket:
        if self._sock is not None:
            return self._sock
        if self.transport == "udp":
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.connect((self.host, self.port))
        else:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self.server_name)
        sock.settimeout(self.connect_timeout_s)
        self._sock = sock
        return sock

    def send(self, batch: list[Record]) -> None:
        try:
            sock = self._connect()
            if self.transport == "udp":
                for record in batch:
                    sock.send(self.format(record))
            else:
                frames = []
                for record in batch:
                    msg = self.format(record)
                    frames.append(f"{len(msg)} ".encode() + msg)
                sock.sendall(b"".join(frames))
        except OSError:
            self.shutdown()  # re-connect on the next attempt
            raise

    def shutdown(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
