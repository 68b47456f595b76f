"""The `requestState` the gateway hands a 2026-07-28 client inside an `InputRequiredResult`.

When a handshake-era upstream asks for input in the middle of a call (elicitation, sampling,
roots), the gateway keeps that call open and answers the stateless client with an
`InputRequiredResult`; the client retries the same request with its answers and the state it
was given. That state is the gateway's own, so the gateway must be able to trust it when it
comes back: it names the held call, the principal it was issued to, a digest of the request it
belongs to and an expiry, all under an HMAC-SHA256 tag. A state that was altered, expired,
issued to someone else or presented with a different request is refused; one that was already
used finds no held call any more (single use, checked by the caller).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from mcpwarden.auth.secrets import resolve_secret

PREFIX = "mw1"
# The request fields a retry may change: its own envelope and the MRTR fields themselves.
RETRY_FIELDS = frozenset({"_meta", "inputResponses", "requestState"})
MAX_STATE_CHARS = 4096


class StateRefused(Exception):
    """The state cannot be honoured; `reason` is the stable code for the client and the audit."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class OpenedState:
    handle: str
    expires: float


def request_digest(method: str, params: dict[str, Any]) -> str:
    """What binds a state to its request: the method and every parameter a retry must repeat."""
    kept = {k: v for k, v in params.items() if k not in RETRY_FIELDS}
    canonical = orjson.dumps({"method": method, "params": kept}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class RequestStateCodec:
    """Seals and opens gateway request states with one HMAC key."""

    def __init__(self, key: bytes, ttl_s: float, clock: Callable[[], float] = time.time) -> None:
        if len(key) < 16:
            raise ValueError("the request-state key must be at least 16 bytes")
        self._key = key
        self.ttl_s = ttl_s
        self.clock = clock

    @classmethod
    def ephemeral(cls, ttl_s: float) -> RequestStateCodec:
        """A codec with a random key: states die with the process, as the calls they hold do."""
        return cls(secrets.token_bytes(32), ttl_s)

    @classmethod
    def from_config(cls, key_ref: str | None, ttl_s: float) -> RequestStateCodec:
        """The codec for `input_required.key` (a secret reference), or an ephemeral one."""
        if key_ref is None:
            return cls.ephemeral(ttl_s)
        return cls(resolve_secret(key_ref).encode("utf-8"), ttl_s)

    def _tag(self, body: str) -> str:
        return _b64(hmac.new(self._key, f"{PREFIX}.{body}".encode("ascii"), hashlib.sha256).digest())

    def seal(self, *, handle: str, principal: str, digest: str) -> tuple[str, float]:
        """A state for the held call `handle`, and when it expires (Unix time)."""
        expires = self.clock() + self.ttl_s
        claims = {"h": handle, "p": principal, "d": digest, "e": round(expires, 3)}
        body = _b64(orjson.dumps(claims, option=orjson.OPT_SORT_KEYS))
        return f"{PREFIX}.{body}.{self._tag(body)}", expires

    def open(self, state: Any, *, principal: str, digest: str) -> OpenedState:
        """The held call a state names, once its tag, expiry, principal and request all check out."""
        if not isinstance(state, str) or len(state) > MAX_STATE_CHARS:
            raise StateRefused("state.malformed", "requestState is not a state this gateway issued")
        prefix, _, rest = state.partition(".")
        body, _, tag = rest.partition(".")
        if prefix != PREFIX or not body or not tag:
            raise StateRefused("state.malformed", "requestState is not a state this gateway issued")
        if not hmac.compare_digest(tag, self._tag(body)):
            raise StateRefused("state.tampered", "requestState failed its integrity check")
        try:
            claims = orjson.loads(_unb64(body))
            handle, owner, bound, expires = claims["h"], claims["p"], claims["d"], float(claims["e"])
        except (ValueError, KeyError, TypeError):
            raise StateRefused("state.malformed", "requestState is not a state this gateway issued") from None
        if self.clock() > expires:
            raise StateRefused("state.expired", "requestState has expired; send the request again")
        if not hmac.compare_digest(str(owner), principal):
            raise StateRefused("state.principal", "requestState was issued to another principal")
        if not hmac.compare_digest(str(bound), digest):
            raise StateRefused("state.request", "requestState belongs to a different request")
        return OpenedState(str(handle), expires)


def unverified_handle(state: Any) -> str | None:
    """The held call's handle a state names, *without* checking its tag: only for routing a
    retry to the worker that holds the call, which then checks everything (`open`)."""
    if not isinstance(state, str) or len(state) > MAX_STATE_CHARS or not state.startswith(PREFIX + "."):
        return None
    body = state.split(".", 2)[1]
    try:
        claims = orjson.loads(_unb64(body))
    except (ValueError, TypeError):
        return None
    handle = claims.get("h") if isinstance(claims, dict) else None
    return handle if isinstance(handle, str) else None
