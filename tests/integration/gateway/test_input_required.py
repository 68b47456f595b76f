"""Input-required results (2026-07-28 MRTR) bridged to handshake-era upstreams.

A 2025-11-25 upstream that asks for input mid-call (elicitation, sampling) reaches a
2026-07-28 client as an `InputRequiredResult`; the client's retry with `inputResponses` and
the gateway's `requestState` resumes the very same upstream call. The state is the gateway's
own: tampered, replayed or re-targeted states are refused and audited. The server request
inside passes the same guards as in the session era (content defense: secrets redacted).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from mcp import Client
from mcp.types import CreateMessageResult, ElicitResult, TextContent

from gwtest.procs import FIXTURES, PYTHON, Gateway, gateway, http_server, http_upstream, stdio_upstream
from gwtest.raw import body_of, stateless_meta, stateless_post

pytestmark = [pytest.mark.integration]

MALICIOUS = FIXTURES / "malicious_server.py"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Rk3Tx2a"
ELICIT = {"elicitation": {}}


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    with http_server(FIXTURES / "features_server.py", "--name", "web") as (url, _):
        config = {
            "upstreams": {
                "web": http_upstream(url, timeout_s=30),
                "local": stdio_upstream("local", timeout_s=30),
                "leaky": {
                    "transport": "stdio",
                    "command": PYTHON,
                    "args": [str(MALICIOUS), "--payload", "secrets"],
                    "content": {},
                    "on_poisoning": "warn",
                },
            }
        }
        with gateway(config) as g:
            yield g


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


def _confirm(client: httpx.Client, url: str, id_: Any, **params: Any) -> httpx.Response:
    call = {"name": "confirm_action", "arguments": {"action": "deploy"}, **params}
    meta = stateless_meta(capabilities=ELICIT)
    return stateless_post(client, url, "tools/call", call, id_=id_, meta=meta)


def _input_required(client: httpx.Client, url: str, id_: Any = "a") -> dict[str, Any]:
    r = _confirm(client, url, id_)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = body_of(r)["result"]
    assert result["resultType"] == "input_required", result
    return result


def _retry(
    client: httpx.Client, url: str, result: dict[str, Any], state: str, id_: Any = "b"
) -> httpx.Response:
    answers = {key: {"action": "accept", "content": {"confirm": True}} for key in result["inputRequests"]}
    return _confirm(client, url, id_, inputResponses=answers, requestState=state)


def _refusals(gw: Gateway, reason: str) -> list[dict[str, Any]]:
    return [r for r in gw.audit() if r.get("reason") == reason]


def _tampered(state: str) -> str:
    """The same state with one claim changed (the expiry pushed out) and the old tag kept."""
    prefix, body, tag = state.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["e"] += 3600
    forged = base64.urlsafe_b64encode(orjson.dumps(claims, option=orjson.OPT_SORT_KEYS)).rstrip(b"=")
    return f"{prefix}.{forged.decode()}.{tag}"


@pytest.mark.parametrize("upstream", ["web", "local"])
def test_elicitation_mid_call_reaches_a_stateless_client_as_input_required(
    gw: Gateway, client: httpx.Client, upstream: str
) -> None:
    result = _input_required(client, gw.url(upstream))
    [request] = result["inputRequests"].values()
    assert request["method"] == "elicitation/create"
    assert request["params"]["message"] == "Really deploy?"
    assert result["requestState"].startswith("mw1.")


@pytest.mark.parametrize("upstream", ["web", "local"])
def test_retry_with_the_input_resumes_the_same_upstream_call(
    gw: Gateway, client: httpx.Client, upstream: str
) -> None:
    result = _input_required(client, gw.url(upstream))
    r = _retry(client, gw.url(upstream), result, result["requestState"])
    assert r.status_code == 200, r.text
    body = body_of(r)
    assert body["id"] == "b"
    assert body["result"]["content"][0]["text"] == "confirmed=True"
    assert body["result"]["resultType"] == "complete"


def test_a_state_used_once_cannot_be_replayed(gw: Gateway, client: httpx.Client) -> None:
    result = _input_required(client, gw.url("local"))
    assert _retry(client, gw.url("local"), result, result["requestState"]).status_code == 200
    replay = _retry(client, gw.url("local"), result, result["requestState"], id_="c")
    assert replay.status_code == 400
    assert body_of(replay)["error"]["data"]["reason"] == "state.replayed"
    assert _refusals(gw, "state.replayed")


def test_a_tampered_state_is_refused_and_audited(gw: Gateway, client: httpx.Client) -> None:
    result = _input_required(client, gw.url("local"))
    r = _retry(client, gw.url("local"), result, _tampered(result["requestState"]))
    assert r.status_code == 400
    error = body_of(r)["error"]
    assert error["code"] == -32602 and error["data"]["reason"] == "state.tampered"
    assert body_of(r)["id"] == "b"
    assert _refusals(gw, "state.tampered")


def test_a_state_presented_with_another_request_is_refused(gw: Gateway, client: httpx.Client) -> None:
    result = _input_required(client, gw.url("local"))
    answers = {key: {"action": "accept", "content": {"confirm": True}} for key in result["inputRequests"]}
    call = {
        "name": "confirm_action",
        "arguments": {"action": "delete everything"},
        "inputResponses": answers,
        "requestState": result["requestState"],
    }
    r = stateless_post(
        client, gw.url("local"), "tools/call", call, id_="x", meta=stateless_meta(capabilities=ELICIT)
    )
    assert r.status_code == 400 and body_of(r)["error"]["data"]["reason"] == "state.request"


def test_a_state_from_another_endpoint_is_refused(gw: Gateway, client: httpx.Client) -> None:
    result = _input_required(client, gw.url("local"))
    r = _retry(client, gw.url("web"), result, result["requestState"])
    assert r.status_code == 400
    assert body_of(r)["error"]["data"]["reason"] in {"state.request", "state.replayed"}


def test_a_retry_without_the_answer_is_refused(gw: Gateway, client: httpx.Client) -> None:
    result = _input_required(client, gw.url("local"))
    r = _confirm(client, gw.url("local"), "b", inputResponses={}, requestState=result["requestState"])
    assert r.status_code == 400 and body_of(r)["error"]["data"]["reason"] == "input.missing"


def test_secrets_in_the_input_request_are_redacted_like_a_server_request(
    gw: Gateway, client: httpx.Client
) -> None:
    meta = stateless_meta(capabilities=ELICIT)
    r = stateless_post(client, gw.url("leaky"), "tools/call", {"name": "ask", "arguments": {}}, meta=meta)
    assert r.status_code == 200, r.text
    result = body_of(r)["result"]
    assert result["resultType"] == "input_required"
    shown = orjson.dumps(result["inputRequests"]).decode()
    assert SECRET not in shown and "[REDACTED:aws-secret-key" in shown
    assert any(
        rec.get("guard") == "content" and "$.params.message" in (rec.get("details") or {}).get("paths", [])
        for rec in gw.audit()
    )


@pytest.mark.anyio
@pytest.mark.parametrize("upstream", ["web", "local"])
async def test_sdk_client_of_the_current_revision_completes_elicitation_and_sampling(
    gw: Gateway, upstream: str
) -> None:
    asked: list[str] = []

    async def on_elicit(_ctx: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    async def on_sampling(_ctx: Any, params: Any) -> CreateMessageResult:
        return CreateMessageResult(role="assistant", content=TextContent(type="text", text="42"), model="m")

    async with Client(
        gw.url(upstream), mode="2026-07-28", elicitation_callback=on_elicit, sampling_callback=on_sampling
    ) as sdk:
        assert sdk.protocol_version == "2026-07-28"
        confirmed = await sdk.call_tool("confirm_action", {"action": "ship"})
        sampled = await sdk.call_tool("ask_model", {"question": "6*7?"})
    assert asked == ["Really ship?"]
    assert confirmed.content[0].text == "confirmed=True"  # type: ignore[union-attr]
    assert sampled.content[0].text == "42"  # type: ignore[union-attr]
