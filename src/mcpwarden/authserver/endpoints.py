"""The machine-facing endpoints: RFC 8414 metadata, JWKS, DCR, token and revocation.

Every error is an RFC 6749 JSON error body with a reason, audited with the client id
(never a code, token or secret). Token responses carry `Cache-Control: no-store`.
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

import orjson
from authlib.oauth2.rfc6749.errors import OAuth2Error
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mcpwarden.authserver.grants import FormRequest, Reply
from mcpwarden.authserver.registration import RegistrationError, is_cimd_client_id
from mcpwarden.authserver.service import AuthorizationService

MAX_FORM_BYTES = 64 * 1024
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=NO_STORE
    )


def reply_response(reply: Reply) -> Response:
    # authlib spells its headers `Cache-Control`, `Pragma`: keyed case-sensitively they would go
    # out twice next to ours (`no-store, no-store`), which strict clients reject.
    headers = {k.lower(): v for k, v in reply.headers}
    headers.update(NO_STORE)
    if reply.status in (301, 302, 303):
        return Response(status_code=302, headers=headers)
    body = reply.body if isinstance(reply.body, dict | list) else {}
    return Response(
        orjson.dumps(body), status_code=reply.status, headers=headers, media_type="application/json"
    )


async def read_form(request: Request) -> dict[str, str]:
    """A url-encoded body as single-valued parameters; repeated names are an error."""
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise OAuth2Error("Content-Type must be application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise OAuth2Error("request body too large")
    from urllib.parse import parse_qsl

    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return single_valued(pairs)


def single_valued(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs:
        if name in out:
            error = OAuth2Error(f"parameter '{name}' repeated")
            error.error = "invalid_request"
            raise error
        out[name] = value
    return out


class Endpoints:
    def __init__(self, service: AuthorizationService) -> None:
        self.service = service

    async def metadata(self, _request: Request) -> Response:
        return JSONResponse(self.service.metadata(), headers={"cache-control": "max-age=300"})

    async def jwks(self, _request: Request) -> Response:
        return JSONResponse(self.service.key.jwks(), headers={"cache-control": "max-age=300"})

    async def register(self, request: Request) -> Response:
        if not self.service.config.dynamic_registration:
            return oauth_error(404, "invalid_request", "dynamic client registration is disabled")
        body = await request.body()
        try:
            metadata = orjson.loads(body) if len(body) <= MAX_FORM_BYTES else None
            answer = self.service.registry.register(metadata)
        except orjson.JSONDecodeError:
            return self._refused("invalid_client_metadata", "registration body is not JSON")
        except RegistrationError as exc:
            return self._refused(exc.error, exc.description)
        self.service.audit(
            "oauth.client_registered",
            reason="oauth.client_registered",
            details={"client_id": answer["client_id"], "redirect_uris": answer["redirect_uris"]},
        )
        return JSONResponse(answer, status_code=201, headers=NO_STORE)

    def _refused(self, error: str, description: str) -> Response:
        self.service.audit("rejected", reason=f"oauth.{error}", status=400, message=description)
        return oauth_error(400, error, description)

    async def _authlib_request(self, request: Request) -> FormRequest:
        data = await read_form(request)
        client_id = data.get("client_id")
        if client_id and is_cimd_client_id(client_id):
            # On failure authlib then refuses the unknown client with invalid_client.
            with contextlib.suppress(RegistrationError):
                await self.service.registry.resolve(client_id)
        headers = {k: v for k, v in request.headers.items()}
        uri = self.service.url(urlsplit(str(request.url)).path)
        return FormRequest("POST", uri, data, headers)

    async def token(self, request: Request) -> Response:
        try:
            oauth_request = await self._authlib_request(request)
        except OAuth2Error as exc:
            return self._refused("invalid_request", str(exc.description))
        reply = self.service.server.create_token_response(oauth_request)
        return self._answer(reply, oauth_request, "token")

    async def revoke(self, request: Request) -> Response:
        try:
            oauth_request = await self._authlib_request(request)
        except OAuth2Error as exc:
            return self._refused("invalid_request", str(exc.description))
        reply = self.service.server.create_endpoint_response("revocation", oauth_request)
        return self._answer(reply, oauth_request, "revoke")

    def _answer(self, reply: Reply, oauth_request: FormRequest, endpoint: str) -> Response:
        self.service.flush_audit()
        if reply.status >= 400:
            error = (
                reply.body.get("error", "invalid_request")
                if isinstance(reply.body, dict)
                else "invalid_request"
            )
            self.service.audit(
                "rejected",
                reason=f"oauth.{error}",
                status=reply.status,
                message=str(reply.body.get("error_description", "")) if isinstance(reply.body, dict) else "",
                details={
                    "endpoint": endpoint,
                    "client_id": oauth_request.payload.client_id,
                    "grant_type": oauth_request.payload.grant_type,
                },
            )
        elif endpoint == "token":
            self.service.audit(
                "oauth.token_issued",
                reason="oauth.token_issued",
                details={
                    "client_id": oauth_request.client.get_client_id() if oauth_request.client else None,
                    "grant_type": oauth_request.payload.grant_type,
                },
            )
        return reply_response(reply)

    def routes(self) -> list[Route]:
        issuer_path = urlsplit(self.service.config.issuer).path
        well_known = "/.well-known/oauth-authorization-server"
        paths = [well_known] + ([well_known + issuer_path] if issuer_path not in ("", "/") else [])
        return [
            *(Route(p, self.metadata, methods=["GET"]) for p in paths),
            Route("/oauth/jwks", self.jwks, methods=["GET"]),
            Route("/register", self.register, methods=["POST"]),
            Route("/token", self.token, methods=["POST"]),
            Route("/revoke", self.revoke, methods=["POST"]),
        ]
