"""Hostile HTTP and stdio upstreams through the real gateway process: redirects, internal
addresses, huge and endless replies, garbage (issue 11 items 1, 2 and 5)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gwtest.procs import (
    FEATURES_SERVER,
    FIXTURES,
    PYTHON,
    Gateway,
    gateway,
    http_server,
    http_upstream,
    stdio_upstream,
)
from gwtest.raw import body_of, init_body, open_session, post

pytestmark = pytest.mark.integration

HOSTILE = FIXTURES / "hostile_http_server.py"
MB = 1024 * 1024


def call(client: httpx.Client, url: str, sid: str, tool: str, args: dict[str, Any], id_: int = 10) -> Any:
    body = {"jsonrpc": "2.0", "id": id_, "method": "tools/call", "params": {"name": tool, "arguments": args}}
    return body_of(post(client, url, body, **{"mcp-session-id": sid}))


def peak_rss_kib(pid: int) -> int:
    """The process's high-water mark of resident memory (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc status")


def recorded(path: Path) -> list[dict[str, Any]]:
    """Requests the gateway (an aiohttp client) sent; the test's own readiness probe is httpx."""
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if not r["headers"].get("user-agent", "").startswith("python-httpx")]


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=90) as c:
        yield c


@pytest.fixture()
def target(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A second server that records every request it gets: the redirect target."""
    log = tmp_path / "target.jsonl"
    with http_server(HOSTILE, "--record", str(log)) as (url, _):
        yield url, log


# ------------------------------------------------------------------ item 1: redirects, egress


def test_redirect_of_a_call_is_refused_audited_and_the_target_receives_nothing(
    client: httpx.Client, target: tuple[str, Path]
) -> None:
    target_url, target_log = target
    with http_server(HOSTILE, "--redirect-to", target_url) as (url, _):
        up = http_upstream(url, headers={"x-upstream-secret": "static-credential"})
        with gateway({"upstreams": {"evil": up}}) as gw:
            sid = open_session(client, gw.url("evil"))
            reply = call(client, gw.url("evil"), sid, "redirect", {})
            audit = gw.audit()
    assert reply["error"]["data"]["reason"] == "upstream.http_error"
    assert "redirects are never followed" in reply["error"]["message"]
    assert any(r.get("event") == "request" and r.get("reason") == "upstream.http_error" for r in audit)
    assert recorded(target_log) == []


def test_redirect_of_initialize_is_refused_and_the_target_receives_nothing(
    client: httpx.Client, target: tuple[str, Path]
) -> None:
    target_url, target_log = target
    with (
        http_server(HOSTILE, "--redirect-all", "--redirect-to", target_url) as (url, _),
        gateway({"upstreams": {"evil": http_upstream(url)}}) as gw,
    ):
        reply = body_of(post(client, gw.url("evil"), init_body()))
        audit = gw.audit()
    assert reply["error"]["data"]["reason"] == "upstream.http_error"
    assert any(r.get("reason") == "upstream.http_error" for r in audit)
    assert recorded(target_log) == []


def test_redirect_of_the_server_stream_is_not_followed_and_is_audited(
    client: httpx.Client, target: tuple[str, Path]
) -> None:
    target_url, target_log = target
    with (
        http_server(HOSTILE, "--get", "redirect", "--redirect-to", target_url) as (url, _),
        gateway({"upstreams": {"evil": http_upstream(url)}}) as gw,
    ):
        sid = open_session(client, gw.url("evil"))
        # The GET stream starts after notifications/initialized; a call afterwards still works.
        assert call(client, gw.url("evil"), sid, "echo", {"text": "hi"})["result"]
        alerts = _wait_for(gw, lambda r: r.get("reason") == "upstream.http_error")
    assert alerts and "redirect" in alerts[0]["message"]
    assert recorded(target_log) == []


def _wait_for(gw: Gateway, pred: Any, tries: int = 200) -> list[dict[str, Any]]:
    import time

    for _ in range(tries):
        found = [r for r in gw.audit() if pred(r)]
        if found:
            return found
        time.sleep(0.05)
    return []


def test_upstream_name_resolving_to_loopback_is_refused_at_connect_time(
    client: httpx.Client, target: tuple[str, Path]
) -> None:
    target_url, target_log = target
    by_name = target_url.replace("127.0.0.1", "localhost")
    up = {"transport": "http", "url": by_name, "content": "off"}
    with gateway({"upstreams": {"internal": up}}) as gw:
        reply = body_of(post(client, gw.url("internal"), init_body()))
        audit = gw.audit()
    assert reply["error"]["data"]["reason"] == "upstream.egress_denied"
    errors = [r for r in audit if r.get("event") == "error" and r.get("upstream") == "internal"]
    assert errors[0]["reason"] == "upstream.egress_denied"
    assert "allow_private" in errors[0]["message"] and "internal" in errors[0]["message"]
    assert recorded(target_log) == []


def test_loopback_address_in_the_config_stops_the_gateway_with_a_message_naming_the_setting(
    tmp_path: Path,
) -> None:
    cfg = tmp_path / "gw.yaml"
    cfg.write_text("upstreams:\n  local:\n    transport: http\n    url: http://127.0.0.1:9/mcp\n")
    proc = subprocess.run(
        [PYTHON, "-m", "mcpwarden", "serve", "-c", str(cfg)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert "upstreams.local" in proc.stderr and "allow_private" in proc.stderr


# ------------------------------------------------------------------ item 2: caps while reading


@pytest.mark.parametrize("tool", ["huge_json", "huge_sse"])
def test_hundred_megabyte_reply_is_cut_off_at_the_cap_without_buffering_it(
    client: httpx.Client, tool: str
) -> None:
    with (
        http_server(HOSTILE) as (url, _),
        gateway({"upstreams": {"evil": http_upstream(url, timeout_s=120)}}) as gw,
    ):
        sid = open_session(client, gw.url("evil"))
        call(client, gw.url("evil"), sid, "echo", {"text": "warm"}, id_=9)
        before = peak_rss_kib(gw.proc.pid)
        reply = call(client, gw.url("evil"), sid, tool, {"size": 100 * MB})
        growth_mib = (peak_rss_kib(gw.proc.pid) - before) / 1024
        after = call(client, gw.url("evil"), sid, "echo", {"text": "still fine"}, id_=11)
        audit = gw.audit()
    assert reply["error"]["data"]["reason"] == "result.too_large"
    assert "cut off while reading" in reply["error"]["message"]
    assert any(r.get("event") == "request" and r.get("reason") == "result.too_large" for r in audit)
    # The cap is 1 MiB; the old client buffered the whole 100 MB (and more) first.
    assert growth_mib < 32, f"peak memory grew by {growth_mib:.1f} MiB"
    assert after["result"]["content"][0]["text"] == "hostile: still fine"


def test_http_upstream_sending_garbage_events_gets_a_prompt_error_not_a_timeout(client: httpx.Client) -> None:
    with (
        http_server(HOSTILE) as (url, _),
        gateway({"upstreams": {"evil": http_upstream(url, timeout_s=120)}}) as gw,
    ):
        sid = open_session(client, gw.url("evil"))
        reply = call(client, gw.url("evil"), sid, "garbage_sse", {})
    assert reply["error"]["data"]["reason"] == "upstream.bad_response"


def test_stdio_upstream_speaking_only_garbage_fails_initialize_promptly(
    client: httpx.Client, tmp_path: Path
) -> None:
    script = tmp_path / "garbage.py"
    script.write_text(
        "import sys, time\nwhile True:\n    sys.stdout.write('\\x00 not json-rpc \\xff\\n')\n"
        "    sys.stdout.flush()\n    time.sleep(0.001)\n"
    )
    up = {"transport": "stdio", "command": sys.executable, "args": [str(script)], "connect_timeout_s": 120}
    with gateway({"upstreams": {"noise": up}}) as gw:
        reply = body_of(post(client, gw.url("noise"), init_body()))
        audit = gw.audit()
    assert reply["error"]["data"]["reason"] == "upstream.closed"
    closed = [r for r in audit if r.get("event") == "upstream.closed" and r.get("upstream") == "noise"]
    assert closed and "not JSON-RPC" in closed[0]["reason"]


def test_stdio_line_over_the_result_cap_gets_result_too_large_and_the_session_survives(
    client: httpx.Client,
) -> None:
    with gateway({"upstreams": {"feat": stdio_upstream("feat", timeout_s=60)}}) as gw:
        sid = open_session(client, gw.url("feat"))
        before = peak_rss_kib(gw.proc.pid)
        reply = call(client, gw.url("feat"), sid, "big", {"size": 40 * MB})
        growth_mib = (peak_rss_kib(gw.proc.pid) - before) / 1024
        after = call(client, gw.url("feat"), sid, "echo", {"text": "after"}, id_=11)
    assert reply["error"]["data"]["reason"] == "result.too_large"
    assert growth_mib < 32, f"peak memory grew by {growth_mib:.1f} MiB"
    assert after["result"]["content"][0]["text"] == "feat: after"


# ------------------------------------------------------------------ item 5: long stream lines


# The SDK repeats a str tool's text in structuredContent, so a 900,000-character result is a
# 1.8 MB message: the cap is raised to 4 MiB here to show that any line up to the cap passes
# (the old reader gave up on lines over 512 KiB whatever the cap).
SDK_CAP = 4 * MB


@pytest.fixture(scope="module")
def sdk_http() -> Iterator[Gateway]:
    with (
        http_server(FEATURES_SERVER, "--name", "web") as (url, _),
        gateway({"upstreams": {"web": http_upstream(url, timeout_s=60, max_result_bytes=SDK_CAP)}}) as gw,
    ):
        yield gw


def test_sdk_server_result_of_270000_characters_passes_under_the_default_cap(client: httpx.Client) -> None:
    with (
        http_server(FEATURES_SERVER, "--name", "web") as (url, _),
        gateway({"upstreams": {"web": http_upstream(url, timeout_s=60)}}) as gw,
    ):
        sid = open_session(client, gw.url("web"))
        reply = call(client, gw.url("web"), sid, "big", {"size": 270_000})
    assert len(reply["result"]["content"][0]["text"]) == 270_000


def test_sdk_server_result_of_900000_characters_streams_through_whole_under_a_4_mib_cap(
    sdk_http: Gateway, client: httpx.Client
) -> None:
    sid = open_session(client, sdk_http.url("web"))
    reply = call(client, sdk_http.url("web"), sid, "big", {"size": 900_000})
    assert len(reply["result"]["content"][0]["text"]) == 900_000


def test_sdk_server_result_over_the_cap_is_refused_as_too_large_not_timed_out(
    sdk_http: Gateway, client: httpx.Client
) -> None:
    sid = open_session(client, sdk_http.url("web"))
    reply = call(client, sdk_http.url("web"), sid, "big", {"size": SDK_CAP})
    assert reply["error"]["data"]["reason"] == "result.too_large"
