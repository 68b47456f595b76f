import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from mcpwarden.audit.events import AuditEvent
from mcpwarden.audit.jsonl import AuditLog
from mcpwarden.cli import main
from mcpwarden.policy.unused import Grant, build_report, parse_duration, read_audit

from .policy_helpers import engine_for

POLICY: dict[str, Any] = {
    "roles": {"claims": [{"path": "roles"}]},
    "rules": [
        {"id": "docs", "roles": ["reader", "writer"], "upstreams": ["fs"], "tools": ["read_file", "list_*"]},
        {"id": "write", "roles": ["writer"], "upstreams": ["fs"], "tools": ["write_file"]},
        {"id": "no-rm", "effect": "deny", "roles": ["*"], "tools": ["rm"]},
    ],
}
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def stamp(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")


def request(tool: str, principal: Any, days_ago: float = 1, decision: str = "allow") -> dict[str, Any]:
    return {
        "time": stamp(days_ago),
        "event": "request",
        "principal": principal,
        "upstream": "fs",
        "method": "tools/call",
        "tool": tool,
        "decision": decision,
        "extra_field": {"ignored": True},
    }


def unused(records: list[dict[str, Any] | None], **kwargs: Any) -> set[tuple[str, str, str]]:
    report = build_report(engine_for(POLICY), records, NOW - timedelta(days=30), **kwargs)
    return {(g.rule, g.role, g.pattern) for g in report.unused}


def test_duration_parses_days_and_hours() -> None:
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration("12h") == timedelta(hours=12)


def test_malformed_duration_is_rejected() -> None:
    with pytest.raises(ValueError):
        parse_duration("30 days")


def test_every_grant_is_unused_without_traffic() -> None:
    assert unused([]) == {
        ("docs", "reader", "read_file"),
        ("docs", "reader", "list_*"),
        ("docs", "writer", "read_file"),
        ("docs", "writer", "list_*"),
        ("write", "writer", "write_file"),
    }


def test_use_by_principal_with_claims_credits_only_its_role() -> None:
    got = unused([request("read_file", {"subject": "alice", "claims": {"roles": ["reader"]}})])
    assert ("docs", "reader", "read_file") not in got
    assert ("docs", "writer", "read_file") in got


def test_use_outside_the_window_does_not_count() -> None:
    got = unused([request("write_file", {"claims": {"roles": ["writer"]}}, days_ago=45)])
    assert ("write", "writer", "write_file") in got


def test_denied_requests_do_not_count_as_use() -> None:
    got = unused([request("write_file", {"claims": {"roles": ["writer"]}}, decision="deny")])
    assert ("write", "writer", "write_file") in got


def test_subject_only_principal_credits_every_matching_role() -> None:
    report = build_report(engine_for(POLICY), [request("list_dir", "alice")], NOW - timedelta(days=30))
    used = {(g.rule, g.role, g.pattern) for g in report.used}
    assert used == {("docs", "reader", "list_*"), ("docs", "writer", "list_*")}
    assert report.events_without_roles == 1


def test_claims_map_attributes_subject_strings() -> None:
    got = unused([request("list_dir", "alice")], claims_by_principal={"alice": {"roles": ["writer"]}})
    assert ("docs", "writer", "list_*") not in got
    assert ("docs", "reader", "list_*") in got


def test_rule_named_in_the_event_is_credited() -> None:
    record = {**request("read_file", "bob"), "details": {"rule": "docs"}}
    report = build_report(engine_for(POLICY), [record], NOW - timedelta(days=30))
    assert {g.rule for g in report.used} == {"docs"}


def test_malformed_lines_are_counted_not_fatal() -> None:
    report = build_report(engine_for(POLICY), [None, {"event": "request", "decision": "allow"}], None)
    assert report.lines_skipped == 1


def test_unused_cli_lists_grants_never_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(POLICY))
    audit = tmp_path / "audit.jsonl"
    audit.write_text(
        "\n".join(json.dumps(r) for r in [request("read_file", "u"), request("list_x", "u")]) + "\nnot json\n"
    )
    argv = ["policy", "unused", "-p", str(policy), "--audit", str(audit), "--since", "30d"]
    assert main([*argv, "--now", NOW.isoformat(), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(u["rule"], u["role"], u["pattern"]) for u in data["unused"]] == [
        ("write", "writer", "write_file")
    ]
    assert data["lines_skipped"] == 1


def test_unused_cli_fail_flag_exits_one_when_something_is_unused(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(POLICY))
    audit = tmp_path / "audit.jsonl"
    audit.write_text("")
    argv = ["policy", "unused", "-p", str(policy), "--audit", str(audit), "--fail-on-unused"]
    assert main(argv) == 1


def test_unused_reads_records_written_by_the_audit_log(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with AuditLog(path, fsync="never") as log:
        log.write(
            AuditEvent(
                event="request",
                principal="carol",
                upstream="fs",
                method="tools/call",
                tool="write_file",
                decision="allow",
            )
        )
    report = build_report(engine_for(POLICY), read_audit([path]), datetime.now(UTC) - timedelta(days=1))
    assert Grant("write", "writer", "fs", "tool", "write_file") in report.used
