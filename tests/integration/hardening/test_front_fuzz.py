"""Fuzzing the HTTP front of a real gateway: whatever arrives, the answer is a clear HTTP
status with a JSON-RPC error naming a reason (never a 500, never a hang), and the gateway
keeps serving.

A bounded number of cases runs with the suite; `make fuzz` runs many more
(MCPWARDEN_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gwtest.procs import Gateway, gateway, http_server, http_upstream
from gwtest.raw import open_session

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("MCPWARDEN_FUZZ_EXAMPLES", "120"))
VALID_SID = "<valid>"

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_value = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=15,
)
methods = st.sampled_from(
    [
        "initialize",
        "ping",
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/read",
        "prompts/get",
        "completion/complete",
        "logging/setLevel",
        "notifications/initialized",
        "notifications/cancelled",
        "notifications/progress",
        "sampling/createMessage",
        "",
        "x" * 300,
    ]
) | st.text(max_size=30)
ids = (
    st.none()
    | st.integers()
    | st.text(max_size=10)
    | st.floats(allow_nan=False)
    | st.lists(st.integers(), max_size=2)
)
safe_tools = st.sampled_from(["echo", "add", "whoami", "nope", ""])


@st.composite
def rpc_message(draw: st.DrawFn) -> Any:
    msg: dict[str, Any] = {}
    if draw(st.booleans()):
        msg["jsonrpc"] = draw(st.sampled_from(["2.0", "1.0", 2, None]))
    else:
        msg["jsonrpc"] = "2.0"
    if draw(st.booleans()):
        msg["id"] = draw(ids)
    choice = draw(st.integers(0, 3))
    if choice < 3:
        method = draw(methods)
        msg["method"] = method
        if method == "tools/call" and draw(st.booleans()):
            msg["params"] = {"name": draw(safe_tools), "arguments": draw(json_value)}
        elif draw(st.booleans()):
            msg["params"] = draw(json_value)
    else:
        msg[draw(st.sampled_from(["result", "error"]))] = draw(json_value)
    return msg


def _dumps(value: Any) -> bytes:
    """Python's encoder: integers beyond 64 bits are sent as they are, to see what the gateway does."""
    return json.dumps(value).encode()


bodies = (
    rpc_message().map(_dumps)
    | st.lists(rpc_message(), max_size=4).map(_dumps)
    | st.binary(max_size=200)
    | st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n)
    | st.integers(1, 3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n)
    | json_value.map(_dumps)
)
# Visible ASCII and inner spaces: what an HTTP client library lets through as a header value.
header_values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(
    lambda v: v.strip()
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], bytes]:
    http_method = draw(st.sampled_from(["POST", "POST", "POST", "GET", "DELETE", "PUT", "OPTIONS", "PATCH"]))
    path = draw(
        st.sampled_from(["/mcp", "/servers/feat/mcp", "/servers/nope/mcp", "/servers//mcp", "/healthz"])
        | header_values.map(lambda p: "/" + p.replace(" ", "").replace("?", "").replace("#", ""))
    )
    headers: dict[str, str] = {}
    headers["content-type"] = draw(
        st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", ""])
        | header_values
    )
    headers["accept"] = draw(
        st.sampled_from(["application/json, text/event-stream", "*/*", "text/event-stream", ""])
        | header_values
    )
    sid = draw(st.sampled_from([None, VALID_SID, "-Rtx", "unknown"]) | header_values)
    if sid is not None:
        headers["mcp-session-id"] = sid
    if draw(st.booleans()):
        headers["mcp-protocol-version"] = draw(
            st.sampled_from(["2025-11-25", "2025-03-26", "2099-01-01"]) | header_values
        )
    if draw(st.booleans()):
        headers["origin"] = draw(
            st.sampled_from(["http://127.0.0.1:1", "https://evil.example"]) | header_values
        )
    if http_method == "DELETE" and sid == VALID_SID:
        headers["mcp-session-id"] = "unknown"  # keep the shared session for the other cases
    return http_method, path, headers, draw(bodies)


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    with http_server() as (url, _), gateway({"upstreams": {"feat": http_upstream(url, pinning="off")}}) as g:
        yield g


@pytest.fixture(scope="module")
def session(gw: Gateway) -> Iterator[tuple[httpx.Client, str]]:
    with httpx.Client(timeout=httpx.Timeout(15.0)) as client:
        yield client, open_session(client, gw.url("feat"))


def _is_mcp_endpoint(path: str) -> bool:
    if path == "/mcp":
        return True
    name = path.removeprefix("/servers/").removesuffix("/mcp")
    return path.startswith("/servers/") and path.endswith("/mcp") and bool(name) and "/" not in name


def _check(response: httpx.Response, path: str) -> None:
    assert response.status_code != 500, response.text[:500]
    assert response.status_code < 500 or response.status_code == 503, response.status_code
    # Other paths are Starlette's (health, metadata): a plain 404/405 there is fine.
    if response.status_code >= 400 and _is_mcp_endpoint(path):
        body = response.json()
        assert isinstance(body, dict) and "error" in body, body
        data = body["error"].get("data")
        reason = data.get("reason") if isinstance(data, dict) else None
        assert reason or response.status_code == 404, body


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(req=requests())
def test_any_request_gets_a_clear_answer_never_a_500(
    gw: Gateway, session: tuple[httpx.Client, str], req: tuple[str, str, dict[str, str], bytes]
) -> None:
    client, sid = session
    http_method, path, headers, body = req
    if headers.get("mcp-session-id") == VALID_SID:
        headers["mcp-session-id"] = sid
    url = gw.base + path
    with client.stream(http_method, url, content=body, headers=headers) as response:
        if response.headers.get("content-type", "").startswith("text/event-stream") and http_method == "GET":
            assert response.status_code == 200
            return  # a live event stream: accepted, nothing more to read
        response.read()
    _check(response, path)


def test_gateway_still_serves_after_the_fuzzing(gw: Gateway, session: tuple[httpx.Client, str]) -> None:
    client, _ = session
    fresh = open_session(client, gw.url("feat"))
    assert fresh
    assert client.get(gw.base + "/healthz").status_code == 200
    assert b"Traceback" not in gw.log_path.read_bytes()
