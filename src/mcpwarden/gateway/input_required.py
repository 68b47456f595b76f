"""Input-required results (2026-07-28 MRTR) for stateless clients of handshake-era upstreams.

A 2025-11-25 upstream asks for input in the middle of a call with a server request
(`elicitation/create`, `sampling/createMessage`, `roots/list`) and waits for the answer. A
2026-07-28 client cannot be sent a request: it expects the call to end with an
`InputRequiredResult` and to retry the same request with `inputResponses` and the
`requestState` it was given. The gateway bridges the two: it parks the upstream call here
(`HeldCall`), answers the client with the upstream's request embedded in `inputRequests`
(after the same guards every server request passes: content defense included), and, when
the retry arrives with a state that checks out (`request_state`), hands the client's answer
to the waiting upstream and carries on with the call where it stopped.

Held calls are bounded per principal and in time; one that is never resumed is stopped
upstream, audited. Each state resumes its call once: a replay finds nothing held.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from mcpwarden.gateway.channel import Channel
from mcpwarden.gateway.request_state import OpenedState, RequestStateCodec, StateRefused, request_digest

JSON = dict[str, Any]
# The client requests of 2026-07-28 that may end in an InputRequiredResult.
INTERACTIVE_METHODS = frozenset({"tools/call", "prompts/get", "resources/read"})
INPUT_METHODS = frozenset({"elicitation/create", "sampling/createMessage", "roots/list"})
# Set in `params._meta` of each server request the bridge to a 2026-07-28 upstream makes from
# one InputRequiredResult: `{"key": <the upstream's inputRequests key>, "count": <requests in
# that result>}`. The stateless front uses it to answer its own client with the same keys and
# all of the upstream's requests at once, instead of one `input-N` per round.
INPUT_KEY_META = "dev.mcpwarden/inputRequest"


def input_key(msg: JSON) -> tuple[str | None, int]:
    """The upstream's key for a bridged input request and how many came with it ((None, 1)
    for a request an upstream sent on its own)."""
    params = msg.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    mark = meta.get(INPUT_KEY_META) if isinstance(meta, dict) else None
    if not isinstance(mark, dict) or not isinstance(mark.get("key"), str):
        return None, 1
    count = mark.get("count")
    return mark["key"], count if isinstance(count, int) and 1 <= count <= MAX_BATCH else 1


# At most this many input requests are gathered into one InputRequiredResult.
MAX_BATCH = 32


def _without_mark(params: Any) -> Any:
    """The request's params as the upstream wrote them, without the bridge's mark."""
    if not isinstance(params, dict) or not isinstance(params.get("_meta"), dict):
        return params
    meta = {k: v for k, v in params["_meta"].items() if k != INPUT_KEY_META}
    rest = {k: v for k, v in params.items() if k != "_meta"}
    return {**rest, "_meta": meta} if meta else rest


@dataclass(eq=False)
class HeldCall:
    """An upstream call parked until its client retries with the input it asked for."""

    handle: str
    principal: str
    endpoint: str
    internal_id: str
    channel: Channel
    digest: str
    # inputRequests key -> the gateway id of the upstream's server request it stands for
    pending: dict[str, str]
    expires: float
    # Stops the call upstream when it is never resumed (set by the front that holds it).
    stop: Callable[[], Coroutine[Any, Any, None] | None] = field(default=lambda: None)


class HeldCalls:
    """The calls waiting for their clients' input, by handle; bounded per principal and in time."""

    def __init__(self, codec: RequestStateCodec, *, max_per_principal: int, suffix: str = "") -> None:
        self.codec = codec
        self._max = max_per_principal
        # Under `serve --workers N`, ".w<i>": the handle (inside the state) names the worker
        # that holds the call, so a retry reaching another worker is relayed here.
        self.suffix = suffix
        # The codec's clock: a held call expires exactly when its state does.
        self._clock = codec.clock
        self._held: dict[str, HeldCall] = {}

    def __len__(self) -> int:
        return len(self._held)

    def hold(
        self,
        *,
        principal: str,
        endpoint: str,
        internal_id: str,
        channel: Channel,
        method: str,
        params: JSON,
        requests: dict[str, JSON],
    ) -> tuple[JSON, HeldCall, list[HeldCall]]:
        """Park a call on the server requests it is waiting for.

        Returns the `InputRequiredResult` for the client, the held call, and the calls that had
        to give way (expired, or the principal's oldest beyond the bound): the caller stops those.
        """
        handle = secrets.token_urlsafe(18) + self.suffix
        digest = request_digest(method, params)
        state, expires = self.codec.seal(handle=handle, principal=principal, digest=digest)
        keys: dict[str, JSON] = {}
        for i, msg in enumerate(requests.values(), start=1):
            key = input_key(msg)[0]
            keys[key if key is not None and key not in keys else f"input-{i}"] = msg
        held = HeldCall(
            handle,
            principal,
            endpoint,
            internal_id,
            channel,
            digest,
            {key: str(msg["id"]) for key, msg in keys.items()},
            expires,
        )
        evicted = self.expired()
        mine = [h for h in self._held.values() if h.principal == principal]
        for old in mine[: max(0, len(mine) - self._max + 1)]:
            evicted.append(self._held.pop(old.handle))
        self._held[handle] = held
        result = {
            "resultType": "input_required",
            "inputRequests": {
                key: {
                    "method": msg["method"],
                    **({"params": _without_mark(msg["params"])} if "params" in msg else {}),
                }
                for key, msg in keys.items()
            },
            "requestState": state,
        }
        return result, held, evicted

    def expired(self) -> list[HeldCall]:
        """Take out every held call whose time is up."""
        now = self._clock()
        gone = [h for h in self._held.values() if h.expires < now]
        for held in gone:
            del self._held[held.handle]
        return gone

    def resume(self, state: Any, *, principal: str, endpoint: str, method: str, params: JSON) -> HeldCall:
        """The held call a retry's `requestState` names, taken out (single use).

        Raises `StateRefused` when the state does not check out, names a call that is no
        longer held (already resumed, expired, or given way), or was issued on another endpoint.
        """
        opened: OpenedState = self.codec.open(
            state, principal=principal, digest=request_digest(method, params)
        )
        held = self._held.get(opened.handle)
        if held is None:
            raise StateRefused(
                "state.replayed", "requestState was already used or its call is no longer held"
            )
        if held.endpoint != endpoint:
            raise StateRefused("state.request", "requestState belongs to another endpoint")
        del self._held[opened.handle]
        return held


def answers_for(held: HeldCall, responses: Any) -> list[JSON] | str:
    """The client's `inputResponses` as JSON-RPC responses to the upstream's server requests,
    or why they cannot be (a missing or malformed answer)."""
    if not isinstance(responses, dict):
        return "inputResponses must be an object keyed like the inputRequests"
    answers: list[JSON] = []
    for key, gw_id in held.pending.items():
        answer = responses.get(key)
        if not isinstance(answer, dict):
            return f"inputResponses has no answer for {key!r}"
        answers.append({"jsonrpc": "2.0", "id": gw_id, "result": answer})
    return answers
