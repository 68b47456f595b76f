"""The 2026-07-28 (stateless) era on the same endpoints as the session era: told apart by the
version header, each request validated on its own (`_meta`, mirrored headers), answered with the
revision's error codes and HTTP statuses, the client's request id always echoed."""

from __future__ import annotations

import base64
import concurrent.futures
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from gwtest.procs import Gateway, gateway, stdio_upstream
from gwtest.raw import (
    HEADERS,
    STATELESS,
    body_of,
    init_body,
    open_session,
    post,
    stateless_meta,
    stateless_post,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    config = {"upstreams": {"feat": stdio_upstream("feat"), "other": stdio_upstream("other")}}
    with gateway(config) as g:
        yield g


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


def _error(resp: httpx.Response) -> dict[str, object]:
    err = body_of(resp)["error"]
    assert isinstance(err, dict)
    return err


def test_discover_on_the_aggregated_endpoint_lists_both_eras_and_merged_capabilities(
    gw: Gateway, client: httpx.Client
) -> None:
    r = stateless_post(client, gw.url(), "server/discover", id_="d1")
    assert r.status_code == 200, r.text
    body = body_of(r)
    assert body["id"] == "d1"
    result = body["result"]
    assert STATELESS in result["supportedVersions"] and "2025-11-25" in result["supportedVersions"]
    assert {"tools", "prompts", "resources"} <= set(result["capabilities"])
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "mcpwarden"
    assert result["resultType"] == "complete" and result["cacheScope"] == "private"


def test_tool_call_without_a_session_is_answered_under_the_clients_id(
    gw: Gateway, client: httpx.Client
) -> None:
    r = stateless_post(
        client, gw.url(), "tools/call", {"name": "feat__echo", "arguments": {"text": "hi"}}, id_=7
    )
    assert r.status_code == 200, r.text
    body = body_of(r)
    assert body["id"] == 7 and body["result"]["resultType"] == "complete"
    assert body["result"]["content"][0]["text"] == "feat: hi"
    assert "mcp-session-id" not in r.headers


def test_list_results_carry_private_caching_hints(gw: Gateway, client: httpx.Client) -> None:
    result = body_of(stateless_post(client, gw.url("feat"), "tools/list"))["result"]
    assert "echo" in {t["name"] for t in result["tools"]}
    assert result["cacheScope"] == "private" and result["ttlMs"] >= 0


def test_unsupported_version_gets_the_supported_list_and_the_request_id(
    gw: Gateway, client: httpx.Client
) -> None:
    body = {
        "jsonrpc": "2.0",
        "id": 301,
        "method": "server/discover",
        "params": {"_meta": stateless_meta("v9")},
    }
    r = post(client, gw.url(), body, **{"mcp-protocol-version": "v9", "mcp-method": "server/discover"})
    assert r.status_code == 400
    err = _error(r)
    assert err["code"] == -32022 and body_of(r)["id"] == 301
    assert err["data"]["requested"] == "v9" and STATELESS in err["data"]["supported"]  # type: ignore[index]


def test_request_without_meta_is_invalid_params_with_http_400(gw: Gateway, client: httpx.Client) -> None:
    r = stateless_post(client, gw.url(), "tools/list", id_=101, meta={})
    assert r.status_code == 400 and _error(r)["code"] == -32602 and body_of(r)["id"] == 101


def test_meta_without_client_capabilities_is_invalid_params(gw: Gateway, client: httpx.Client) -> None:
    meta = stateless_meta()
    del meta["io.modelcontextprotocol/clientCapabilities"]
    r = stateless_post(client, gw.url(), "tools/list", meta=meta)
    assert r.status_code == 400 and _error(r)["code"] == -32602


def test_meta_version_differing_from_the_header_is_a_header_mismatch(
    gw: Gateway, client: httpx.Client
) -> None:
    r = stateless_post(client, gw.url(), "server/discover", id_=302, meta=stateless_meta("v999.0.0"))
    assert r.status_code == 400 and _error(r)["code"] == -32020 and body_of(r)["id"] == 302


def test_mcp_method_header_contradicting_the_body_is_refused_and_audited(
    gw: Gateway, client: httpx.Client
) -> None:
    r = stateless_post(client, gw.url("feat"), "tools/list", mcp_method="prompts/list")
    assert r.status_code == 400 and _error(r)["code"] == -32020
    assert any(rec.get("reason") == "header.mismatch" for rec in gw.audit())


def test_mcp_name_header_contradicting_the_tool_name_is_refused(gw: Gateway, client: httpx.Client) -> None:
    params = {"name": "echo", "arguments": {"text": "x"}}
    r = stateless_post(client, gw.url("feat"), "tools/call", params, mcp_name="add")
    assert r.status_code == 400 and _error(r)["code"] == -32020


def test_removed_handshake_method_is_404_method_not_found(gw: Gateway, client: httpx.Client) -> None:
    r = stateless_post(client, gw.url(), "initialize", id_=500)
    assert r.status_code == 404 and _error(r)["code"] == -32601 and body_of(r)["id"] == 500


def test_unknown_method_is_404_method_not_found(gw: Gateway, client: httpx.Client) -> None:
    r = stateless_post(client, gw.url("feat"), "unknown/method", id_=601)
    assert r.status_code == 404, r.text
    assert _error(r)["code"] == -32601 and body_of(r)["id"] == 601


def test_server_request_needing_an_undeclared_capability_is_missing_capability(
    gw: Gateway, client: httpx.Client
) -> None:
    r = stateless_post(
        client, gw.url("feat"), "tools/call", {"name": "ask_model", "arguments": {"question": "q"}}
    )
    assert r.status_code == 400, r.text
    err = _error(r)
    assert err["code"] == -32021 and err["data"]["requiredCapabilities"] == {"sampling": {}}  # type: ignore[index]


def test_log_messages_reach_only_a_client_that_set_a_log_level(gw: Gateway, client: httpx.Client) -> None:
    quiet = stateless_post(client, gw.url("feat"), "tools/call", {"name": "chatty", "arguments": {}})
    assert (
        "notifications/message" not in quiet.text
        and body_of(quiet)["result"]["content"][0]["text"] == "logged"
    )
    loud = stateless_post(
        client,
        gw.url("feat"),
        "tools/call",
        {"name": "chatty", "arguments": {}},
        meta=stateless_meta(logLevel="info"),
    )
    assert "notifications/message" in loud.text


def test_session_era_request_without_a_session_echoes_its_id(gw: Gateway, client: httpx.Client) -> None:
    r = post(client, gw.url("feat"), {"jsonrpc": "2.0", "id": 42, "method": "tools/list"})
    assert r.status_code == 400 and body_of(r)["id"] == 42


def test_refused_initialize_is_answered_under_its_id(gw: Gateway, client: httpx.Client) -> None:
    r = post(client, gw.url("feat"), init_body(id_=77), **{"mcp-session-id": "made-up"})
    assert r.status_code == 400 and body_of(r)["id"] == 77


def test_session_era_still_works_on_the_same_endpoint(gw: Gateway, client: httpx.Client) -> None:
    sid = open_session(client, gw.url("feat"))
    r = post(
        client,
        gw.url("feat"),
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        **{"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"},
    )
    assert "echo" in {t["name"] for t in body_of(r)["result"]["tools"]}
    client.delete(gw.url("feat"), headers={"mcp-session-id": sid})


def test_get_stream_is_refused_in_the_stateless_era(gw: Gateway, client: httpx.Client) -> None:
    r = client.get(gw.url("feat"), headers={"accept": "text/event-stream", "mcp-protocol-version": STATELESS})
    assert r.status_code == 405


def test_initialize_is_not_affected_by_a_handshake_version_header(gw: Gateway, client: httpx.Client) -> None:
    r = post(client, gw.url("feat"), init_body(), **{"mcp-protocol-version": "2025-06-18"})
    assert r.status_code == 200 and r.headers.get("mcp-session-id")
    client.delete(gw.url("feat"), headers={"mcp-session-id": r.headers["mcp-session-id"]})


def _regional(client: httpx.Client, gw: Gateway, **headers: str) -> httpx.Response:
    # The gateway learns the tool's x-mcp-header annotations from a tools/list on this path.
    stateless_post(client, gw.url("feat"), "tools/list")
    params = {"name": "regional", "arguments": {"region": "eu west", "query": "q"}}
    return stateless_post(client, gw.url("feat"), "tools/call", params, **headers)


def test_mirrored_argument_header_that_matches_is_served(gw: Gateway, client: httpx.Client) -> None:
    r = _regional(client, gw, mcp_param_region="eu west")
    assert r.status_code == 200 and body_of(r)["result"]["content"][0]["text"] == "eu west:q"


def test_mirrored_argument_header_may_be_base64(gw: Gateway, client: httpx.Client) -> None:
    r = _regional(client, gw, mcp_param_region="=?base64?" + base64.b64encode(b"eu west").decode() + "?=")
    assert r.status_code == 200, r.text


def test_mirrored_argument_header_contradicting_the_argument_is_refused(
    gw: Gateway, client: httpx.Client
) -> None:
    r = _regional(client, gw, mcp_param_region="us-east")
    assert r.status_code == 400 and _error(r)["code"] == -32020


def test_missing_mirror_of_an_annotated_argument_is_refused(gw: Gateway, client: httpx.Client) -> None:
    assert _regional(client, gw).status_code == 400


def test_listen_stream_is_acknowledged_then_carries_the_subscribed_update(
    gw: Gateway, client: httpx.Client
) -> None:
    params = {"notifications": {"resourceSubscriptions": ["note://static"], "toolsListChanged": True}}
    body = {"jsonrpc": "2.0", "id": "L1", "method": "subscriptions/listen"}
    body["params"] = {**params, "_meta": stateless_meta()}
    headers = {**HEADERS, "mcp-protocol-version": STATELESS, "mcp-method": "subscriptions/listen"}
    frames: list[dict[str, Any]] = []
    with client.stream("POST", gw.url("feat"), content=orjson.dumps(body), headers=headers) as resp:
        lines = resp.iter_lines()
        for line in lines:
            if line.startswith("data:"):
                frames.append(orjson.loads(line[5:]))
                break
        ack = frames[0]
        assert ack["method"] == "notifications/subscriptions/acknowledged"
        assert ack["params"]["notifications"]["resourceSubscriptions"] == ["note://static"]
        assert ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "L1"
        with httpx.Client(timeout=30) as other:
            touched = stateless_post(
                other, gw.url("feat"), "tools/call", {"name": "touch_note", "arguments": {}}
            )
        assert body_of(touched)["result"]["content"][0]["text"] == "notified"
        for line in lines:
            if line.startswith("data:"):
                frames.append(orjson.loads(line[5:]))
                break
    update = frames[1]
    assert (
        update["method"] == "notifications/resources/updated" and update["params"]["uri"] == "note://static"
    )
    assert update["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "L1"


def test_concurrent_first_requests_of_a_principal_share_one_gateway_side_session() -> None:
    with gateway({"upstreams": {"feat": stdio_upstream("feat")}}) as fresh, httpx.Client(timeout=60) as c:

        def call(i: int) -> int:
            params = {"name": "echo", "arguments": {"text": str(i)}}
            return stateless_post(c, fresh.url("feat"), "tools/call", params, id_=i).status_code

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            assert list(pool.map(call, range(6))) == [200] * 6
        starts = [r for r in fresh.audit() if r.get("event") == "session.start"]
    assert len(starts) == 1, starts
