"""Raw HTTP against the gateway, for what an SDK client would never send."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def init_body(version: str = "2025-11-25", id_: Any = 1) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": id_,
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"},
        },
    }


def post(client: httpx.Client, url: str, body: Any, **headers: str) -> httpx.Response:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return client.post(url, content=data, headers={**HEADERS, **headers})


def open_session(client: httpx.Client, url: str, version: str = "2025-11-25") -> str:
    r = post(client, url, init_body(version))
    assert r.status_code == 200, r.text
    sid = r.headers["mcp-session-id"]
    r2 = post(
        client,
        url,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        **{"mcp-session-id": sid, "mcp-protocol-version": version},
    )
    assert r2.status_code == 202, r2.text
    return sid


def body_of(resp: httpx.Response) -> Any:
    """The JSON-RPC message of a response, whether sent as JSON or as one SSE event."""
    if resp.headers.get("content-type", "").startswith("text/event-stream"):
        events = [line[5:].strip() for line in resp.text.splitlines() if line.startswith("data:")]
        return orjson.loads(events[-1])
    return resp.json()


STATELESS = "2026-07-28"
NAME_FIELDS = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}


def stateless_meta(version: str = STATELESS, **extra: Any) -> dict[str, Any]:
    """The `_meta` every 2026-07-28 request carries (no capabilities unless given)."""
    return {
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": extra.pop("capabilities", {}),
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"},
        **{f"io.modelcontextprotocol/{k}": v for k, v in extra.items()},
    }


def stateless_headers(method: str, params: dict[str, Any], version: str = STATELESS) -> dict[str, str]:
    """The headers a 2026-07-28 client sends: version, Mcp-Method and (where due) Mcp-Name."""
    headers = {"mcp-protocol-version": version, "mcp-method": method}
    field = NAME_FIELDS.get(method)
    if field is not None and isinstance(params.get(field), str):
        headers["mcp-name"] = params[field]
    return headers


def stateless_post(
    client: httpx.Client,
    url: str,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    id_: Any = 1,
    meta: dict[str, Any] | None = None,
    **headers: str,
) -> httpx.Response:
    """One 2026-07-28 request with correct `_meta` and headers; keyword headers override them."""
    body_params = dict(params or {})
    body_params["_meta"] = stateless_meta() if meta is None else meta
    body = {"jsonrpc": "2.0", "id": id_, "method": method, "params": body_params}
    merged = {
        **stateless_headers(method, body_params),
        **{k.replace("_", "-"): v for k, v in headers.items()},
    }
    return post(client, url, body, **merged)
