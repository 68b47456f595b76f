"""HTTP webhook sink: batches of records POSTed as JSON to chat, ticketing or a SOAR.

Body: `{"source": "mcpwarden", "records": [...]}`. A 2xx answer delivers the batch; a
network error, a 5xx, a 408 or a 429 is retried with exponential backoff (bounded
attempts); any other status drops the batch at once, because repeating a request the
receiver refused as malformed or unauthorized would only repeat the refusal. Redirects
are not followed, so a receiver cannot bounce records to another host.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from mcpwarden.audit.sinks.queue import QueuedSink, Record
from mcpwarden.auth.secrets import resolve_secret

_RETRYABLE = frozenset({408, 425, 429})


class WebhookRejected(Exception):
    """The receiver answered with a status that retrying will not change."""


class WebhookSink(QueuedSink):
    kind = "webhook"

    def __init__(
        self,
        name: str,
        *,
        url: str,
        headers: dict[str, str] | None = None,
        bearer_token: str | None = None,
        timeout_s: float = 5.0,
        **queue: Any,
    ) -> None:
        super().__init__(name, **queue)
        self.url = url
        self.headers = {"content-type": "application/json", **(headers or {})}
        # A secret reference, resolved per batch so a rotated token is picked up.
        self.bearer_token = bearer_token
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False)

    def send(self, batch: list[Record]) -> None:
        headers = dict(self.headers)
        if self.bearer_token is not None:
            headers["authorization"] = f"Bearer {resolve_secret(self.bearer_token)}"
        body = orjson.dumps({"source": "mcpwarden", "records": batch})
        response = self._client.post(self.url, content=body, headers=headers)
        status = response.status_code
        if 200 <= status < 300:
            return
        if status >= 500 or status in _RETRYABLE:
            raise ConnectionError(f"webhook answered {status}")
        raise WebhookRejected(f"webhook refused the batch with {status}")

    def is_final(self, exc: Exception) -> bool:
        return isinstance(exc, WebhookRejected)

    def shutdown(self) -> None:
        self._client.close()
