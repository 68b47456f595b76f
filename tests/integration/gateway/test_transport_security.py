"""Transport-level rules of Streamable HTTP: each bad request gets a clear HTTP status and a
JSON-RPC error naming the reason, is audited, and never reaches an upstream."""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from gwtest.procs import Gateway, gateway, is_visible_ascii, stdio_upstream, wait_for_request_start
from gwtest.raw import HEADERS, body_of, init_body, open_session, post

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    # Sessions here must outlive any pause a loaded machine imposes between two requests, so the
    # idle timeout is the default's order of magnitude; the expiry tests start their own gateways.
    config = {
        "security": {"max_body_bytes": 4096},
        "upstreams": {"feat": stdio_upstream("feat"), "other": stdio_upstream("other")},
    }
    with gateway(config) as g:
        yield g


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    """A client that ends, after the test, every session the gateway gave it. Each session owns a
    stdio child, and one principal may hold only `max_stdio_children_per_principal` of them: left
    open, the sessions of earlier tests would exhaust that quota for later ones."""
    opened: list[tuple[str, str]] = []

    def remember(resp: httpx.Response) -> None:
        sid = resp.headers.get("mcp-session-id")
        if sid and resp.request.method == "POST":
            opened.append((str(resp.request.url), sid))

    with httpx.Client(timeout=30, event_hooks={"response": [remember]}) as c:
        yield c
        for url, sid in opened:
            # A test's own gateway is gone by now, and its sessions with it.
            with contextlib.suppress(httpx.TransportError):
                c.delete(url, headers={"mcp-session-id": sid})


def _reason(resp: httpx.Response) -> str:
    return str(resp.json()["error"]["data"]["reason"])


def _audited(gw: Gateway, reason: str) -> bool:
    return any(r.get("reason") == reason for r in gw.audit())


def test_foreign_origin_is_rejected_with_403(gw: Gateway, client: httpx.Client) -> None:
    r = post(client, gw.url("feat"), init_body(), origin="http://evil.example.com")
    assert r.status_code == 403 and _reason(r) == "transport.bad_origin"
    assert _audited(gw, "transport.bad_origin")


def test_loopback_origin_is_accepted(gw: Gateway, client: httpx.Client) -> None:
    r = post(client, gw.url("feat"), init_body(), origin="http://localhost:6274")
    assert r.status_code == 200


def test_rebinding_host_is_rejected_with_421(gw: Gateway, client: httpx.Client) -> None:
    r = post(client, gw.url("feat"), init_body(), host="attacker.example.com")
    assert r.status_code == 421 and _reason(r) == "transport.bad_host"


def test_oversized_body_is_rejected_with_413(gw: Gateway, client: httpx.Client) -> None:
    sid = open_session(client, gw.url("feat"))
    big = {
        "jsonrpc": "2.0",
        "id": 5,
        "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "x" * 10_000}},
    }
    r = post(client, gw.url("feat"), big, **{"mcp-session-id": sid})
    assert r.status_code == 413 and _reason(r) == "transport.body_too_large"


def test_unsupported_protocol_version_header_is_rejected_with_400(gw: Gateway, client: httpx.Client) -> None:
    sid = open_session(client, gw.url("feat"))
    r = post(
        client,
        gw.url("feat"),
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        **{"mcp-session-id": sid, "mcp-protocol-version": "1999-01-01"},
    )
    assert r.status_code == 400 and _reason(r) == "transport.protocol_version"


def test_supported_protocol_version_differing_from_the_negotiated_one_is_normalized(
    gw: Gateway, client: httpx.Client
) -> None:
    sid = open_session(client, gw.url("feat"), version="2025-06-18")
    r = post(
        client,
        gw.url("feat"),
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        **{"mcp-session-id": sid, "mcp-protocol-version": "2025-03-26"},
    )
    assert r.status_code == 200 and "tools" in body_of(r)["result"]


@pytest.mark.parametrize("version", ["2025-03-26", "2025-06-18", "2025-11-25"])
def test_each_supported_revision_negotiates(gw: Gateway, client: httpx.Client, version: str) -> None:
    r = post(client, gw.url("feat"), init_body(version))
    assert r.status_code == 200 and body_of(r)["result"]["protocolVersion"] == version


def test_malformed_json_is_a_parse_error(gw: Gateway, client: httpx.Client) -> None:
    r = post(client, gw.url("feat"), b'{"jsonrpc": "2.0", "id": 1, "method": ')
    assert r.status_code == 400 and r.json()["error"]["code"] == -32700


def test_invalid_utf8_is_a_parse_error(gw: Gateway, client: httpx.Client) -> None:
    r = post(client, gw.url("feat"), b'{"jsonrpc": "2.0", "id": 1, "method": "\xff\xfe"}')
    assert r.status_code == 400 and r.json()["error"]["code"] == -32700


def test_request_without_id_is_invalid(gw: Gateway, client: httpx.Client) -> None:
    sid = open_session(client, gw.url("feat"))
    r = post(client, gw.url("feat"), {"jsonrpc": "2.0", "method": "tools/list"}, **{"mcp-session-id": sid})
    assert (
        r.status_code == 400 and _reason(r) == "jsonrpc.invalid" and "no id" in r.json()["error"]["message"]
    )


def test_null_id_is_invalid(gw: Gateway, client: httpx.Client) -> None:
    sid = open_session(client, gw.url("feat"))
    r = post(
        client,
        gw.url("feat"),
        {"jsonrpc": "2.0", "id": None, "method": "tools/list"},
        **{"mcp-session-id": sid},
    )
    assert r.status_code == 400


def test_batch_is_rejected_when_the_revision_forbids_it(gw: Gateway, client: httpx.Client) -> None:
    sid = open_session(client, gw.url("feat"))
    batch = [{"jsonrpc": "2.0", "id": 2, "method": "ping"}, {"jsonrpc": "2.0", "id": 3, "method": "ping"}]
    r = post(client, gw.url("feat"), batch, **{"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"})
    assert r.status_code == 400 and _reason(r) == "jsonrpc.batch"


def test_batch_is_answered_under_2025_03_26(gw: Gateway, client: httpx.Client) -> None:
    sid = open_session(client, gw.url("feat"), version="2025-03-26")
    batch = [{"jsonrpc": "2.0", "id": 2, "method": "ping"}, {"jsonrpc": "2.0", "id": 3, "method": "ping"}]
    r = post(client, gw.url("feat"), batch, **{"mcp-session-id": sid, "mcp-protocol-version": "2025-03-26"})
    assert r.status_code == 200 and sorted(m["id"] for m in r.json()) == [2, 3]


def test_wrong_content_type_is_rejected_with_415(gw: Gateway, client: httpx.Client) -> None:
    r = post(client, gw.url("feat"), init_body(), **{"content-type": "text/plain"})
    assert r.status_code == 415 and _reason(r) == "transport.content_type"


def test_accept_without_event_stream_is_rejected_with_406(gw: Gateway, client: httpx.Client) -> None:
    r = post(client, gw.url("feat"), init_body(), accept="application/json")
    assert r.status_code == 406


def test_session_ids_are_visible_ascii_with_at_least_128_bits(gw: Gateway, client: httpx.Client) -> None:
    # Each session starts a stdio child (about a second on a loaded machine): eight distinct
    # ids show the generator's shape as well as twenty did.
    ids = {post(client, gw.url("feat"), init_body()).headers["mcp-session-id"] for _ in range(8)}
    assert len(ids) == 8
    for sid in ids:
        assert is_visible_ascii(sid) and len(sid) * 6 >= 128


def test_upstream_session_id_is_never_exposed(gw: Gateway, client: httpx.Client) -> None:
    r = post(client, gw.url("feat"), init_body())
    assert list(r.headers.get_list("mcp-session-id")) == [r.headers["mcp-session-id"]]


def test_request_without_session_is_rejected_with_400(gw: Gateway, client: httpx.Client) -> None:
    r = post(client, gw.url("feat"), {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    assert r.status_code == 400 and _reason(r) == "session.missing"


def test_unknown_session_gets_404(gw: Gateway, client: httpx.Client) -> None:
    r = post(
        client,
        gw.url("feat"),
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        **{"mcp-session-id": secrets.token_urlsafe(32)},
    )
    assert r.status_code == 404


def test_client_cannot_choose_its_session_id(gw: Gateway, client: httpx.Client) -> None:
    r = post(client, gw.url("feat"), init_body(), **{"mcp-session-id": "chosen-by-client"})
    assert r.status_code == 400 and _reason(r) == "session.initialize_with_id"


def test_deleted_session_gets_404(gw: Gateway, client: httpx.Client) -> None:
    sid = open_session(client, gw.url("feat"))
    assert client.delete(gw.url("feat"), headers={"mcp-session-id": sid}).status_code == 200
    r = post(
        client, gw.url("feat"), {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, **{"mcp-session-id": sid}
    )
    assert r.status_code == 404


def test_session_is_bound_to_its_endpoint(gw: Gateway, client: httpx.Client) -> None:
    sid = open_session(client, gw.url("feat"))
    r = post(
        client,
        gw.url("other"),
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        **{"mcp-session-id": sid},
    )
    assert r.status_code == 404


def test_idle_session_expires(client: httpx.Client) -> None:
    # A gateway of its own with a short idle timeout: sleeping past it guarantees expiry however
    # slow the machine, and no other test's session can be cut off by it. The timeout still
    # leaves room for the two back-to-back requests that open the session.
    config = {"sessions": {"idle_timeout_s": 3.0}, "upstreams": {"feat": stdio_upstream("feat")}}
    with gateway(config) as g:
        sid = open_session(client, g.url("feat"))
        time.sleep(4.0)
        r = post(
            client,
            g.url("feat"),
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            **{"mcp-session-id": sid},
        )
        assert r.status_code == 404


def test_get_stream_requires_event_stream_accept(gw: Gateway, client: httpx.Client) -> None:
    sid = open_session(client, gw.url("feat"))
    r = client.get(gw.url("feat"), headers={"mcp-session-id": sid, "accept": "application/json"})
    assert r.status_code == 406


def test_unknown_upstream_endpoint_is_404(gw: Gateway, client: httpx.Client) -> None:
    assert post(client, gw.url("missing"), init_body()).status_code == 404


def test_unknown_method_passes_through_to_the_upstream(gw: Gateway, client: httpx.Client) -> None:
    sid = open_session(client, gw.url("feat"))
    r = post(
        client,
        gw.url("feat"),
        {"jsonrpc": "2.0", "id": 9, "method": "vendor/custom", "params": {"x": 1}},
        **{"mcp-session-id": sid},
    )
    msg = body_of(r)
    # The SDK server's own refusal, relayed: the gateway adds no reason code of its own.
    assert msg["id"] == 9 and msg["error"]["code"] in (-32601, -32602)
    assert "reason" not in (msg["error"].get("data") or {})
    assert any(a.get("method") == "vendor/custom" and a.get("upstream") == "feat" for a in gw.audit())


def test_duplicate_in_flight_request_id_is_rejected(gw: Gateway, client: httpx.Client) -> None:
    sid = open_session(client, gw.url("feat"))
    hdrs = {**HEADERS, "mcp-session-id": sid}
    slow = {
        "jsonrpc": "2.0",
        "id": 77,
        "method": "tools/call",
        "params": {"name": "hang", "arguments": {"seconds": 5}},
    }
    first: list[httpx.Response] = []
    t = threading.Thread(
        target=lambda: first.append(httpx.post(gw.url("feat"), json=slow, headers=hdrs, timeout=60))
    )
    t.start()
    wait_for_request_start(gw, sid, 77)
    r = post(client, gw.url("feat"), slow, **{"mcp-session-id": sid})
    t.join()
    assert "already in use" in body_of(r)["error"]["message"]
    assert body_of(first[0])["result"]["content"][0]["text"] == "woke up"


def test_session_past_its_absolute_lifetime_expires_even_while_in_use(client: httpx.Client) -> None:
    max_age = 4.0
    config = {
        "sessions": {"idle_timeout_s": 600, "max_age_s": max_age},
        "upstreams": {"feat": stdio_upstream("feat")},
    }
    with gateway(config) as g:
        opened_before = time.monotonic()
        sid = open_session(client, g.url("feat"))
        body = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
        assert post(client, g.url("feat"), body, **{"mcp-session-id": sid}).status_code == 200
        # Kept busy (every ping resets the idle clock) the session still ends at max_age_s.
        deadline = time.monotonic() + max_age + 60
        status = 200
        while status == 200 and time.monotonic() < deadline:
            time.sleep(0.25)
            status = post(client, g.url("feat"), body, **{"mcp-session-id": sid}).status_code
        assert status == 404
        assert time.monotonic() - opened_before >= max_age
