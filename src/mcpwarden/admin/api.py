"""The admin HTTP API: the kill switch and live sessions, on a listener of its own.

Authentication is a bearer token read from a secret reference on every request (so a
rotated token takes effect at once) and compared in constant time. It is deliberately a
different credential from anything the MCP endpoints accept: an MCP access token, however
privileged at the IdP, never opens this API. An unreadable token reference fails closed
(503), a wrong or missing token is 401 and audited.

    GET  /v1/sessions                 live sessions with principal, upstreams, age, counters
    GET  /v1/disabled                 what the kill switch holds
    POST /v1/disable {kind, name, reason?}
    POST /v1/enable  {kind, name}
    GET  /v1/oauth/consents[?user=&client_id=]   consents given at the authorization server
    DELETE /v1/oauth/consents/{id}               revoke one: the user is asked again next time
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mcpwarden.admin.counters import SessionCounters, handle_of
from mcpwarden.admin.killswitch import KINDS, KillSwitchStore
from mcpwarden.auth.secrets import SecretError, resolve_secret
from mcpwarden.authserver.store import OAuthStore, Record
from mcpwarden.store.base import StoreUnavailable
from mcpwarden.types import Principal

log = logging.getLogger("mcpwarden.admin")
MAX_BODY_BYTES = 64 * 1024
API_PRINCIPAL = "admin-api"


class LiveSession(Protocol):
    principal: Principal
    upstream_names: list[str]
    transport: str
    created: float
    last_seen: float
    closed: bool


class AdminTarget(Protocol):
    """What the API needs from the gateway (implemented by `GatewayCore`)."""

    @property
    def sessions(self) -> dict[str, Any]: ...

    def audit_event(self, event: str, **fields: Any) -> None: ...

    def check_kill_switch(self) -> None: ...


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json", headers=headers)


def _error(status: int, reason: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return _json({"error": {"reason": reason, "message": message}}, status, headers)


def session_rows(sessions: dict[str, Any], counters: SessionCounters) -> list[dict[str, Any]]:
    now = time.monotonic()
    rows = []
    for sid, s in sessions.items():
        if s.closed:
            continue
        rows.append(
            {
                "handle": handle_of(sid),
                "subject": s.principal.subject,
                "principal": s.principal.key,
                "upstreams": list(s.upstream_names),
                "transport": s.transport,
                "age_s": round(now - s.created, 1),
                "idle_s": round(now - s.last_seen, 1),
                **counters.get(sid).to_dict(),
            }
        )
    return sorted(rows, key=lambda r: -r["age_s"])


def consent_row(record: Record) -> dict[str, Any]:
    return {
        "id": record.key,
        "user": record.user_id,
        "client_id": record.client_id,
        "redirect_uri": record.data.get("redirect_uri"),
        "scopes": record.data.get("scopes", []),
        "resources": record.data.get("resources", []),
    }


def build_admin_app(
    target: AdminTarget,
    killswitch: KillSwitchStore,
    counters: SessionCounters,
    token_ref: str,
    *,
    resolve: Callable[[str], str] = resolve_secret,
    consents: OAuthStore | None = None,
) -> Starlette:
    def authorized(request: Request) -> Response | None:
        try:
            expected = resolve(token_ref)
        except SecretError as exc:
            log.error("admin API token unavailable: %s", exc)
            return _error(503, "admin.token_unavailable", "the admin token is not configured on the gateway")
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
            target.audit_event(
                "rejected",
                reason="admin.unauthorized",
                message="admin API request without a valid admin token",
                details={"path": request.url.path, "http_method": request.method},
            )
            return _error(
                401,
                "admin.unauthorized",
                "a valid admin bearer token is required",
                {"www-authenticate": 'Bearer realm="mcpwarden-admin"'},
            )
        return None

    async def body(request: Request) -> dict[str, Any]:
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY_BYTES:
                raise ValueError("body too large")
        data = orjson.loads(raw or b"{}")
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        return data

    async def sessions(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        return _json({"sessions": session_rows(target.sessions, counters)})

    def unavailable(request: Request, exc: StoreUnavailable) -> Response:
        # The shared kill switch (Redis) is away: say so, and leave a record of the attempt.
        target.audit_event(
            "rejected",
            principal=API_PRINCIPAL,
            reason="store.unavailable",
            message=str(exc),
            details={"path": request.url.path, "http_method": request.method},
        )
        return _error(503, "store.unavailable", str(exc))

    async def disabled(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        try:
            return _json({"disabled": [d.to_dict() for d in killswitch.list()]})
        except StoreUnavailable as exc:
            return unavailable(request, exc)

    async def change(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        action = request.path_params["action"]
        if action not in ("disable", "enable"):
            return _error(404, "admin.unknown", f"no admin action {action!r}")
        try:
            data = await body(request)
            kind, name = str(data.get("kind", "")), str(data.get("name", ""))
            reason = data.get("reason")
            if action == "disable":
                entry = killswitch.disable(
                    kind, name, by=API_PRINCIPAL, reason=str(reason) if reason else None
                )
                target.audit_event(
                    "admin.disable",
                    principal=API_PRINCIPAL,
                    reason=f"killswitch.{entry.kind}",
                    message=f"{entry.kind} {entry.name} disabled",
                    details={
                        "kind": entry.kind,
                        "name": entry.name,
                        "by": API_PRINCIPAL,
                        "why": entry.reason,
                    },
                )
                target.check_kill_switch()
                return _json({"disabled": entry.to_dict()})
            found = killswitch.enable(kind, name)
        except StoreUnavailable as exc:
            return unavailable(request, exc)
        except (ValueError, orjson.JSONDecodeError) as exc:
            return _error(400, "admin.invalid", f"{exc}; kind is one of {', '.join(KINDS)}")
        if not found:
            return _error(404, "admin.not_disabled", f"{kind} {name} is not disabled")
        target.audit_event(
            "admin.enable",
            principal=API_PRINCIPAL,
            reason=f"killswitch.{kind}",
            message=f"{kind} {name} enabled",
            details={"kind": kind, "name": name, "by": API_PRINCIPAL},
        )
        return _json({"enabled": {"kind": kind, "name": name}})

    async def list_consents(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        if consents is None:
            return _error(404, "admin.no_authorization_server", "this gateway has no authorization_server")
        user, client = request.query_params.get("user"), request.query_params.get("client_id")
        rows = [consent_row(r) for r in consents.list("consent", user_id=user, client_id=client)]
        return _json({"consents": rows})

    async def revoke_consent(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        if consents is None:
            return _error(404, "admin.no_authorization_server", "this gateway has no authorization_server")
        key = request.path_params["key"]
        if not consents.revoke("consent", key):
            return _error(404, "admin.unknown_consent", "no active consent with this id")
        target.audit_event(
            "admin.consent_revoked",
            principal=API_PRINCIPAL,
            reason="oauth.consent_revoked",
            details={"consent": key, "by": API_PRINCIPAL},
        )
        return _json({"revoked": key})

    return Starlette(
        routes=[
            Route("/v1/oauth/consents", list_consents, methods=["GET"]),
            Route("/v1/oauth/consents/{key:str}", revoke_consent, methods=["DELETE"]),
            Route("/v1/sessions", sessions, methods=["GET"]),
            Route("/v1/disabled", disabled, methods=["GET"]),
            Route("/v1/{action:str}", change, methods=["POST"]),
        ]
    )
