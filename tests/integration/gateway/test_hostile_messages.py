"""Messages built to break the gateway get a clear JSON-RPC error and an audit record, from
clients (HTTP front and the stdio wrapper) and from upstreams alike, and nothing stops working."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
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

pytestmark = [pytest.mark.integration]

DEEP_SERVER = FIXTURES / "deep_reply_server.py"


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    with http_server(DEEP_SERVER) as (deep_url, _):
        config = {
            "upstreams": {
                "feat": stdio_upstream("feat", timeout_s=20),
                "deep": http_upstream(deep_url, timeout_s=20),
            }
        }
        with gateway(config) as g:
            yield g


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


def _nested_arguments(levels: int) -> bytes:
    """A tools/call whose arguments nest `levels` objects deep (written out: serializers refuse)."""
    nested = b'{"a":' * (levels - 1) + b"{}" + b"}" * (levels - 1)
    return (
        b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":'
        + nested
        + b"}}}"
    )


def _session(client: httpx.Client, gw: Gateway, upstream: str) -> dict[str, str]:
    sid = open_session(client, gw.url(upstream))
    return {"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}


def _reason(resp: httpx.Response) -> Any:
    return resp.json()["error"]["data"]["reason"]


def _audited(gw: Gateway, reason: str, **match: Any) -> bool:
    return any(r.get("reason") == reason and all(r.get(k) == v for k, v in match.items()) for r in gw.audit())


@pytest.mark.parametrize("levels", [253, 300, 1000])
def test_request_nested_past_the_limit_gets_a_jsonrpc_error_with_its_id_and_is_audited(
    gw: Gateway, client: httpx.Client, levels: int
) -> None:
    headers = _session(client, gw, "feat")
    r = post(client, gw.url("feat"), _nested_arguments(levels), **headers)
    assert r.status_code == 400
    assert r.json()["id"] == 7
    assert _reason(r) == "jsonrpc.too_deep"
    assert _audited(gw, "jsonrpc.too_deep", session=headers["mcp-session-id"])


def test_request_nested_past_the_parser_limit_is_a_parse_error(gw: Gateway, client: httpx.Client) -> None:
    headers = _session(client, gw, "feat")
    r = post(client, gw.url("feat"), _nested_arguments(2000), **headers)
    assert r.status_code == 400 and _reason(r) == "jsonrpc.parse_error"


def test_session_keeps_working_after_a_deep_request(gw: Gateway, client: httpx.Client) -> None:
    headers = _session(client, gw, "feat")
    post(client, gw.url("feat"), _nested_arguments(300), **headers)
    call = {
        "jsonrpc": "2.0",
        "id": 8,
        "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "x"}},
    }
    r = post(client, gw.url("feat"), call, **headers)
    assert body_of(r)["result"]["content"][0]["text"] == "feat: x"


def test_moderately_nested_arguments_are_relayed(gw: Gateway, client: httpx.Client) -> None:
    headers = _session(client, gw, "deep")
    call = {
        "jsonrpc": "2.0",
        "id": 9,
        "method": "tools/call",
        "params": {"name": "nest", "arguments": {"levels": 40}},
    }
    r = post(client, gw.url("deep"), call, **headers)
    depth, node = 0, body_of(r)["result"]["structuredContent"]
    while "next" in node:
        depth, node = depth + 1, node["next"]
    assert depth == 39 and node == {"leaf": True}


@pytest.mark.parametrize("levels", [300, 1000])
def test_upstream_reply_nested_past_the_limit_becomes_an_error_for_the_caller_and_is_audited(
    gw: Gateway, client: httpx.Client, levels: int
) -> None:
    headers = _session(client, gw, "deep")
    call = {
        "jsonrpc": "2.0",
        "id": 10,
        "method": "tools/call",
        "params": {"name": "nest", "arguments": {"levels": levels}},
    }
    r = post(client, gw.url("deep"), call, **headers)
    msg = body_of(r)
    assert msg["id"] == 10
    assert msg["error"]["data"]["reason"] == "upstream.too_deep"
    assert _audited(gw, "upstream.too_deep", session=headers["mcp-session-id"], upstream="deep")
    assert _audited(gw, "upstream.too_deep", event="request", session=headers["mcp-session-id"])


@pytest.mark.parametrize("request_id", [[1, 2], {"id": 1}])
def test_cancellation_naming_a_list_or_object_is_rejected_cleanly(
    gw: Gateway, client: httpx.Client, request_id: Any
) -> None:
    headers = _session(client, gw, "feat")
    cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": request_id}}
    r = post(client, gw.url("feat"), cancel, **headers)
    assert r.status_code == 400
    assert _reason(r) == "jsonrpc.invalid"
    assert "requestId" in r.json()["error"]["message"]
    ping = post(client, gw.url("feat"), {"jsonrpc": "2.0", "id": 11, "method": "ping"}, **headers)
    assert body_of(ping)["result"] == {}


def _wrap(tmp_path: Any) -> subprocess.Popen[bytes]:
    audit = tmp_path / "audit.jsonl"
    config = tmp_path / "wrap.yaml"
    config.write_text(
        f"audit: {{path: {audit}, fsync: never}}\nstore: {{path: {tmp_path / 'store.sqlite3'}}}\n"
    )
    return subprocess.Popen(
        [
            PYTHON,
            "-m",
            "mcpwarden",
            "wrap",
            "-c",
            str(config),
            "--",
            PYTHON,
            str(FEATURES_SERVER),
            "--name",
            "w",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def _exchange(proc: subprocess.Popen[bytes], line: bytes) -> dict[str, Any]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(line + b"\n")
    proc.stdin.flush()
    return dict(orjson.loads(proc.stdout.readline()))


def test_wrapper_answers_deep_and_malformed_cancellations_and_keeps_serving(tmp_path: Any) -> None:
    proc = _wrap(tmp_path)
    try:
        assert "result" in _exchange(proc, orjson.dumps(init_body()))
        deep = _exchange(proc, _nested_arguments(300))
        assert deep["id"] == 7 and deep["error"]["data"]["reason"] == "jsonrpc.too_deep"
        bad_cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": [1]}}
        assert _exchange(proc, orjson.dumps(bad_cancel))["error"]["data"]["reason"] == "jsonrpc.invalid"
        ping = _exchange(proc, orjson.dumps({"jsonrpc": "2.0", "id": 2, "method": "ping"}))
        assert ping == {"jsonrpc": "2.0", "id": 2, "result": {}}
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(20)
    reasons = [
        orjson.loads(line).get("reason") for line in (tmp_path / "audit.jsonl").read_bytes().splitlines()
    ]
    assert "jsonrpc.too_deep" in reasons
