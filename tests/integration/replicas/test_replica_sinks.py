"""A replica's SIEM sinks carry its replica id, as a collector parses it off the wire.

A SIEM fed by several replicas must tell them apart and match each event to the replica's
own audit chain (docs/replicas.md, "Audit from many replicas"). One real gateway process
with `replica.id` set and a syslog, a webhook and an OTLP sink, each pointed at a real
receiver; its `gateway.start` record and the records of one session must reach each of them
naming the replica.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gwtest.procs import gateway, stdio_upstream
from gwtest.raw import open_session
from gwtest.receivers import HttpReceiver, SyslogMessage, SyslogReceiver, decode_otlp_logs

pytestmark = pytest.mark.integration

REPLICA = "blue-2"


def _has_session(records: list[dict[str, Any]]) -> bool:
    return any(r.get("event") == "session.start" for r in records)


@pytest.fixture(scope="module")
def received() -> Iterator[dict[str, list[Any]]]:
    """What each receiver got from one replica that started and served one session."""
    syslog = SyslogReceiver("udp")
    webhook = HttpReceiver()
    otlp = HttpReceiver(decode=decode_otlp_logs)
    fast = {"flush_interval_s": 0.05}
    config = {
        "replica": {"id": REPLICA},
        "upstreams": {"feat": stdio_upstream()},
        "audit": {
            "sinks": [
                {"type": "syslog", "port": syslog.port, "transport": "udp", **fast},
                {"type": "webhook", "url": webhook.url("/hook"), **fast},
                {"type": "otlp", "endpoint": otlp.url("/v1/logs"), **fast},
            ]
        },
    }
    try:
        with gateway(config) as gw, httpx.Client(timeout=30) as client:
            open_session(client, gw.url("feat"))
            cef = syslog.wait_for(lambda items: any(m.msgid == "session.start" for m in items))
            hooks = webhook.wait_for(lambda items: _has_session([r for b in items for r in b["records"]]))
            logs = otlp.wait_for(
                lambda items: any(log["event_name"] == "mcpwarden.session.start" for b in items for log in b)
            )
        yield {
            "syslog": cef,
            "webhook": [r for body in hooks for r in body["records"]],
            "otlp": [log for batch in logs for log in batch],
        }
    finally:
        for receiver in (syslog, webhook, otlp):
            receiver.close()


def test_syslog_names_the_replica_in_structured_data_and_the_cef_device_id(
    received: dict[str, list[Any]],
) -> None:
    messages: list[SyslogMessage] = received["syslog"]
    assert {m.msgid for m in messages} >= {"gateway.start", "session.start"}
    for message in messages:
        assert f'replica="{REPLICA}"' in message.structured_data, message.structured_data
        assert message.cef["deviceExternalId"] == REPLICA


def test_the_webhook_batches_carry_the_replica_on_every_record(received: dict[str, list[Any]]) -> None:
    records = received["webhook"]
    assert {r["event"] for r in records} >= {"gateway.start", "session.start"}
    assert {r["replica"] for r in records} == {REPLICA}


def test_otlp_log_records_carry_the_replica_attribute_and_instance_id(received: dict[str, list[Any]]) -> None:
    logs = received["otlp"]
    assert {log["event_name"] for log in logs} >= {"mcpwarden.gateway.start", "mcpwarden.session.start"}
    assert {log["attributes"]["mcpwarden.replica"] for log in logs} == {REPLICA}
    assert {log["resource"]["service.instance.id"] for log in logs} == {REPLICA}
