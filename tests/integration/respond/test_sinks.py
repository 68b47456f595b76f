"""Audit sinks against real receivers: what a syslog collector, a webhook endpoint and an
OTLP collector actually parse off the wire, and what a dead receiver costs (nothing)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from gwtest.receivers import HttpReceiver, SyslogReceiver, dead_port, decode_otlp_logs, self_signed_tls
from mcpwarden.audit import AuditLog, verify
from mcpwarden.audit.sinks.fanout import AuditFanout
from mcpwarden.audit.sinks.otlp import OtlpSink
from mcpwarden.audit.sinks.syslog import SyslogSink
from mcpwarden.audit.sinks.webhook import WebhookSink

GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def _deny(n: int = 1) -> dict[str, object]:
    return {
        "event": "decision",
        "session": "S3cr3tSessionIdValue",
        "principal": "https://idp|alice|cli",
        "upstream": "files",
        "method": "tools/call",
        "tool": "read_file",
        "decision": "deny",
        "guard": "policy",
        "reason": "policy.denied",
        "message": f"call {n} denied: path outside the allowed roots",
        "latency_ms": 0.25,
    }


@pytest.fixture
def audit_file(tmp_path: Path) -> Iterator[AuditLog]:
    log = AuditLog(tmp_path / "audit.jsonl", fsync="never")
    yield log


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_syslog_receiver_parses_rfc5424_with_cef_payload(audit_file: AuditLog, transport: str) -> None:
    receiver = SyslogReceiver(transport)
    sink = SyslogSink("siem", host="127.0.0.1", port=receiver.port, transport=transport, hostname="gw1")  # type: ignore[arg-type]
    fanout = AuditFanout(audit_file, [sink])
    fanout.start()
    try:
        written = fanout.write(_deny())
        [msg] = receiver.wait_for(lambda items: len(items) >= 1)
    finally:
        fanout.close()
        receiver.close()
    assert receiver.errors == []
    assert msg.pri == 13 * 8 + 4  # facility log-audit, severity warning for a denial
    assert (msg.hostname, msg.app_name, msg.msgid) == ("gw1", "mcpwarden", "decision")
    assert msg.timestamp == written["time"]
    assert f'seq="{written["seq"]}"' in msg.structured_data and written["chain"] in msg.structured_data
    assert msg.cef_header[1:3] == ["mcpwarden", "mcpwarden"]
    assert msg.cef_header[4] == "policy.denied"
    assert msg.cef_header[6] == "6"
    assert msg.cef["suser"] == "https://idp|alice|cli"
    assert msg.cef["act"] == "deny"
    assert msg.custom("upstream") == "files" and msg.custom("tool") == "read_file"
    assert msg.custom("guard") == "policy"
    assert msg.cef["msg"] == "call 1 denied: path outside the allowed roots"


def test_syslog_over_tls_verifies_the_collector_certificate(audit_file: AuditLog, tmp_path: Path) -> None:
    tls, ca_file = self_signed_tls(tmp_path)
    receiver = SyslogReceiver("tls", tls=tls)
    sink = SyslogSink("siem", host="127.0.0.1", port=receiver.port, transport="tls", ca_file=ca_file)
    fanout = AuditFanout(audit_file, [sink])
    fanout.start()
    try:
        fanout.write(_deny())
        [msg] = receiver.wait_for(lambda items: len(items) >= 1)
    finally:
        fanout.close()
        receiver.close()
    assert msg.cef["act"] == "deny"


def test_syslog_over_tls_refuses_an_unknown_certificate(audit_file: AuditLog, tmp_path: Path) -> None:
    tls, _ = self_signed_tls(tmp_path)
    receiver = SyslogReceiver("tls", tls=tls)
    sink = SyslogSink(
        "siem", host="127.0.0.1", port=receiver.port, transport="tls", max_attempts=1, close_timeout_s=5
    )
    fanout = AuditFanout(audit_file, [sink])
    fanout.start()
    fanout.write(_deny())
    fanout.close()
    receiver.close()
    assert receiver.items == [] and sink.stats.sent == 0 and sink.stats.dropped == 1


def test_syslog_escapes_cef_separators_in_values(audit_file: AuditLog) -> None:
    receiver = SyslogReceiver("udp")
    sink = SyslogSink("siem", host="127.0.0.1", port=receiver.port)
    fanout = AuditFanout(audit_file, [sink])
    fanout.start()
    try:
        fanout.write({"event": "error", "reason": "a|b", "message": "x=1\ny=2 \\ done"})
        [msg] = receiver.wait_for(lambda items: len(items) >= 1)
    finally:
        fanout.close()
        receiver.close()
    assert msg.cef_header[4] == "a|b"
    assert msg.cef["msg"] == "x=1\ny=2 \\ done"


def test_webhook_receives_batches_with_its_bearer_token(
    audit_file: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_TOKEN", "hook-secret-value")
    receiver = HttpReceiver()
    sink = WebhookSink(
        "hook", url=receiver.url("/hook"), bearer_token="env:HOOK_TOKEN", batch_size=10, flush_interval_s=0.05
    )
    fanout = AuditFanout(audit_file, [sink])
    fanout.start()
    try:
        for n in range(25):
            fanout.write(_deny(n))
        bodies = receiver.wait_for(lambda items: sum(len(b["records"]) for b in items) >= 25)
    finally:
        fanout.close()
        receiver.close()
    records = [r for body in bodies for r in body["records"]]
    assert [r["seq"] for r in records] == list(range(1, 26))
    assert all(body["source"] == "mcpwarden" and len(body["records"]) <= 10 for body in bodies)
    assert receiver.headers_seen[0]["authorization"] == "Bearer hook-secret-value"


def test_webhook_retries_a_failing_receiver_with_backoff_then_delivers(audit_file: AuditLog) -> None:
    receiver = HttpReceiver(status=503)
    sink = WebhookSink("hook", url=receiver.url("/hook"), retry_initial_s=0.05, max_attempts=50)
    fanout = AuditFanout(audit_file, [sink])
    fanout.start()
    try:
        fanout.write(_deny())
        while sink.stats.failed_batches < 2:
            receiver.in_flight.wait(5)
            receiver.in_flight.clear()
        receiver.status = 200
        [body] = receiver.wait_for(lambda items: len(items) >= 1)
    finally:
        fanout.close()
        receiver.close()
    assert body["records"][0]["reason"] == "policy.denied"
    assert sink.stats.sent == 1 and sink.stats.dropped == 0


def test_webhook_refusal_is_not_retried(audit_file: AuditLog) -> None:
    receiver = HttpReceiver(status=401)
    sink = WebhookSink("hook", url=receiver.url("/hook"), retry_initial_s=0.05, max_attempts=50)
    fanout = AuditFanout(audit_file, [sink])
    fanout.start()
    fanout.write(_deny())
    fanout.close()
    receiver.close()
    assert len(receiver.headers_seen) == 1
    assert sink.stats.dropped == 1 and sink.stats.sent == 0


def test_otlp_receiver_decodes_log_records_with_audit_attributes(audit_file: AuditLog) -> None:
    receiver = HttpReceiver(decode=decode_otlp_logs)
    sink = OtlpSink("otel", endpoint=receiver.url("/v1/logs"), service_name="gw-test")
    fanout = AuditFanout(audit_file, [sink])
    fanout.start()
    try:
        written = fanout.write(_deny())
        fanout.write({"event": "alert", "reason": "session.principal_mismatch", "message": "hijack?"})
        batches = receiver.wait_for(lambda items: sum(len(b) for b in items) >= 2)
    finally:
        fanout.close()
        receiver.close()
    logs = [log for batch in batches for log in batch]
    deny, alert = logs[0], logs[1]
    assert deny["resource"]["service.name"] == "gw-test"
    assert deny["scope"] == "mcpwarden.audit"
    assert deny["severity"] == "WARN" and alert["severity"] == "ERROR"
    assert deny["event_name"] == "mcpwarden.decision"
    assert deny["body"] == written["message"]
    attrs = deny["attributes"]
    assert attrs["mcpwarden.reason"] == "policy.denied"
    assert attrs["mcpwarden.seq"] == written["seq"]
    assert attrs["mcpwarden.hash"] == written["hash"]
    assert deny["time_unix_nano"] > 0


def test_secrets_and_session_ids_are_redacted_before_any_sink(audit_file: AuditLog) -> None:
    receiver = HttpReceiver()
    sink = WebhookSink("hook", url=receiver.url("/hook"), flush_interval_s=0.05)
    fanout = AuditFanout(audit_file, [sink])
    fanout.start()
    event = _deny()
    event["message"] = f"upstream echoed {GITHUB_TOKEN}"
    event["details"] = {"header": f"token={GITHUB_TOKEN}"}
    event["arguments"] = {"path": "/etc/passwd", "token": GITHUB_TOKEN}
    try:
        fanout.write(event)
        [body] = receiver.wait_for(lambda items: len(items) >= 1)
    finally:
        fanout.close()
        receiver.close()
    shipped = orjson.dumps(body).decode()
    assert GITHUB_TOKEN not in shipped
    assert "S3cr3tSessionIdValue" not in shipped
    [record] = body["records"]
    assert "[REDACTED:github-token:1]" in record["message"]
    assert "arguments" not in record and len(record["args_sha256"]) == 64
    assert len(record["session"]) == 16
    # The local file keeps what happened (its message), as before.
    line = orjson.loads((audit_file.path).read_bytes().splitlines()[0])
    assert GITHUB_TOKEN in line["message"]


def test_hung_webhook_never_holds_a_write_and_the_file_gets_every_event(audit_file: AuditLog) -> None:
    hold = threading.Event()
    receiver = HttpReceiver(hold=hold)
    sink = WebhookSink("hook", url=receiver.url("/hook"), max_queue=20, batch_size=5, timeout_s=60)
    fanout = AuditFanout(audit_file, [sink], max_pending=50)
    fanout.start()
    try:
        fanout.write(_deny(0))
        assert receiver.in_flight.wait(20), "the sink never reached the receiver"
        # The sender is now stuck inside a POST that will not be answered: every write
        # below returns while it is, so no write waited on the sink.
        for n in range(1, 500):
            fanout.write(_deny(n))
        assert sink.stats.sent == 0 and receiver.items == []
        assert sink.depth <= 20
        assert fanout.dispatcher is not None and fanout.dispatcher.depth <= 50
        dropped_while_down = sink.stats.dropped + fanout.dispatcher.stats.dropped
        assert dropped_while_down > 0
    finally:
        hold.set()
        fanout.close()
        receiver.close()
    lines = audit_file.path.read_bytes().splitlines()
    assert len(lines) == 500
    assert verify(audit_file.path).ok


def test_unreachable_collectors_drop_and_count_without_failing_writes(audit_file: AuditLog) -> None:
    port = dead_port()
    sinks = [
        SyslogSink("tcp", host="127.0.0.1", port=port, transport="tcp", max_attempts=2, retry_initial_s=0.01),
        WebhookSink("hook", url=f"http://127.0.0.1:{port}/hook", max_attempts=2, retry_initial_s=0.01),
        OtlpSink("otel", endpoint=f"http://127.0.0.1:{port}/v1/logs", max_attempts=2, retry_initial_s=0.01),
    ]
    fanout = AuditFanout(audit_file, sinks)
    fanout.start()
    for n in range(20):
        fanout.write(_deny(n))
    fanout.close()
    for sink in sinks:
        assert sink.stats.sent == 0
        assert sink.stats.dropped == 20, sink.name
    assert len(audit_file.path.read_bytes().splitlines()) == 20
