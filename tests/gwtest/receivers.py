"""Real receivers for the audit sinks: syslog (UDP/TCP, RFC 5424 + CEF), a webhook, OTLP/HTTP.

Each listens on a loopback socket in a thread of the test process and parses what arrives
the way a collector would, so the tests check the wire format, not the sender's intent.
"""

from __future__ import annotations

import re
import socketserver
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from gwtest import ports

RFC5424 = re.compile(
    rb"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<proc>\S+) (?P<msgid>\S+) "
    rb"(?P<sd>-|\[.*?(?<!\\)\]) (?P<msg>.*)$",
    re.S,
)
_CEF_EXT = re.compile(r"(\w+)=((?:\\.|[^\\=])*?)(?=\s+\w+=|$)")


@dataclass
class SyslogMessage:
    pri: int
    timestamp: str
    hostname: str
    app_name: str
    msgid: str
    structured_data: str
    cef_header: list[str]
    cef: dict[str, str]

    def custom(self, label: str) -> str | None:
        """The value of a CEF custom field by its label (cs1Label=session → cs1)."""
        for key, value in self.cef.items():
            if key.endswith("Label") and value == label:
                return self.cef.get(key[: -len("Label")])
        return None


def _split_header(text: str) -> tuple[list[str], str]:
    fields: list[str] = []
    cur = []
    i = 0
    while len(fields) < 7 and i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            cur.append(text[i + 1])
            i += 2
            continue
        if c == "|":
            fields.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    return fields, text[i:]


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def parse_syslog(data: bytes) -> SyslogMessage:
    m = RFC5424.match(data)
    if m is None:
        raise ValueError(f"not RFC 5424: {data[:120]!r}")
    msg = m.group("msg")
    if not msg.startswith(b"\xef\xbb\xbf"):
        raise ValueError("MSG does not start with the UTF-8 BOM")
    text = msg[3:].decode("utf-8")
    header, ext = _split_header(text)
    if len(header) != 7 or header[0] != "CEF:0":
        raise ValueError(f"not CEF: {text[:120]!r}")
    cef = {k: _unescape(v) for k, v in _CEF_EXT.findall(ext)}
    return SyslogMessage(
        pri=int(m.group("pri")),
        timestamp=m.group("ts").decode(),
        hostname=m.group("host").decode(),
        app_name=m.group("app").decode(),
        msgid=m.group("msgid").decode(),
        structured_data=m.group("sd").decode(),
        cef_header=header,
        cef=cef,
    )


class _Collector:
    def __init__(self) -> None:
        self.items: list[Any] = []
        self.errors: list[str] = []
        self.cond = threading.Condition()

    def add(self, item: Any) -> None:
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def wait_for(self, predicate: Callable[[list[Any]], bool], timeout: float = 20.0) -> list[Any]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self.items):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"receiver got {len(self.items)} items; errors: {self.errors}")
                self.cond.wait(left)
            return list(self.items)


class SyslogReceiver(_Collector):
    """UDP: one message per datagram. TCP: octet-counted frames (`LEN SP MSG`)."""

    def __init__(self, transport: str = "udp", tls: ssl.SSLContext | None = None) -> None:
        super().__init__()
        self.transport = transport
        receiver = self
        if transport == "udp":

            class UdpHandler(socketserver.BaseRequestHandler):
                def handle(self) -> None:
                    receiver._take(self.request[0])

            udp = socketserver.ThreadingUDPServer(("127.0.0.1", 0), UdpHandler)
            self.server: socketserver.BaseServer = udp
        else:

            class TcpHandler(socketserver.StreamRequestHandler):
                def handle(self) -> None:
                    while True:
                        digits = b""
                        while (c := self.rfile.read(1)) not in (b" ", b""):
                            digits += c
                        if not digits:
                            return
                        receiver._take(self.rfile.read(int(digits)))

            class TcpServer(socketserver.ThreadingTCPServer):
                def get_request(self) -> tuple[Any, Any]:
                    conn, addr = super().get_request()
                    if tls is not None:
                        conn = tls.wrap_socket(conn, server_side=True)
                    return conn, addr

            self.server = TcpServer(("127.0.0.1", 0), TcpHandler)
        self.server.daemon_threads = True  # type: ignore[attr-defined]
        self.port = int(self.server.server_address[1])  # type: ignore[attr-defined]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _take(self, data: bytes) -> None:
        try:
            self.add(parse_syslog(data))
        except ValueError as exc:
            self.errors.append(str(exc))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class HttpReceiver(_Collector):
    """A webhook or OTLP/HTTP endpoint. `status` is what it answers; `hold` makes it hang."""

    decode: Callable[[bytes], Any] = orjson.loads
    status: int = 200
    hold: threading.Event | None = None
    in_flight: threading.Event = field(default_factory=threading.Event)
    headers_seen: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        _Collector.__init__(self)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver.headers_seen.append({k.lower(): v for k, v in self.headers.items()})
                receiver.in_flight.set()
                if receiver.hold is not None:
                    receiver.hold.wait(30)
                if receiver.status == 200:
                    receiver.add(receiver.decode(body))
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()


def decode_otlp_logs(body: bytes) -> list[dict[str, Any]]:
    """An OTLP/HTTP logs request as a list of {body, severity, attributes, resource} dicts."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    request = ExportLogsServiceRequest()
    request.ParseFromString(body)
    out: list[dict[str, Any]] = []
    for rl in request.resource_logs:
        resource = {a.key: _any_value(a.value) for a in rl.resource.attributes}
        for sl in rl.scope_logs:
            for lr in sl.log_records:
                out.append(
                    {
                        "body": _any_value(lr.body),
                        "severity": lr.severity_text,
                        "event_name": lr.event_name,
                        "time_unix_nano": lr.time_unix_nano,
                        "attributes": {a.key: _any_value(a.value) for a in lr.attributes},
                        "resource": resource,
                        "scope": sl.scope.name,
                    }
                )
    return out


def decode_otlp_traces(body: bytes) -> list[dict[str, Any]]:
    """An OTLP/HTTP traces request as a list of span dicts (ids as lowercase hex)."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    out: list[dict[str, Any]] = []
    for rs in request.resource_spans:
        resource = {a.key: _any_value(a.value) for a in rs.resource.attributes}
        for ss in rs.scope_spans:
            for span in ss.spans:
                out.append(
                    {
                        "name": span.name,
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(),
                        "kind": span.kind,
                        "status_code": span.status.code,
                        "attributes": {a.key: _any_value(a.value) for a in span.attributes},
                        "resource": resource,
                        "scope": ss.scope.name,
                    }
                )
    return out


def _any_value(v: Any) -> Any:
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


def dead_port() -> int:
    """A loopback port with nothing listening (see `gwtest.ports`)."""
    return ports.dead_port()


def self_signed_tls(directory: Any) -> tuple[ssl.SSLContext, str]:
    """A server TLS context for 127.0.0.1 with a fresh self-signed certificate; returns it and
    the certificate's path (the client's CA file)."""
    import datetime as dt
    import ipaddress
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path = Path(directory) / "syslog-cert.pem"
    key_path = Path(directory) / "syslog-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_path, key_path)
    return ctx, str(cert_path)
