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
