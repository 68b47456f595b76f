"""The browser side: /authorize, sign-in at the enterprise IdP, consent, third parties.

    MCP client ──/authorize──▶ gateway ──(no login)──▶ IdP ──▶ /oauth/login/callback
        ▲                         │ consent page (CSRF, no framing) ◀─┘
        │                         ▼ allow
        │          state cookie set now ──▶ third party ──▶ /oauth/upstream/callback
        └──── code + state + iss ◀──────────────────────────────────┘

Errors before the client and its redirect URI are known to match are shown as a page
and never redirected (no open redirect); afterwards they go back to the client with
`error`, `state` and `iss`. A pending authorization belongs to the user who signed in
for it: another browser, or another user's login cookie, cannot continue it.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2.rfc6749.errors import OAuth2Error
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mcpwarden.authserver.consent import Consents
from mcpwarden.authserver.consent_page import (
    LOGIN_COOKIE,
    LOGIN_TX_COOKIE,
    STATE_COOKIE,
    clear_cookie,
    consent_page,
    error_page,
    set_cookie,
)
from mcpwarden.authserver.endpoints import read_form, reply_response, single_valued
from mcpwarden.authserver.grants import FormRequest, GrantUser
from mcpwarden.authserver.oidc_login import LoginError
from mcpwarden.authserver.registration import RegistrationError
from mcpwarden.authserver.service import AuthorizationService
from mcpwarden.authserver.store import Record, secret_key
from mcpwarden.authserver.thirdparty import ThirdPartyError, authorization_url

PENDING_TTL = 600
PURGE_EVERY_S = 60.0
LOGIN_CALLBACK = "/oauth/login/callback"
UPSTREAM_CALLBACK = "/oauth/upstream/callback"


def _no_store(response: Response) -> Response:
    response.headers["cache-control"] = "no-store"
    return response


class BrowserFlow:
    def __init__(self, service: AuthorizationService) -> None:
        self.service = service
        self.consents = Consents(service.store)
        self._purged_at = 0.0

    # -- helpers ---------------------------------------------------------------------------

    def _refuse(self, status: int, reason: str, detail: str, **details: Any) -> Response:
        self.service.audit("rejected", reason=reason, status=status, message=detail, details=details)
        return error_page(status, "Authorization refused", detail)

    def _user(self, request: Request) -> str | None:
        value = request.cookies.get(LOGIN_COOKIE)
        if not value:
            return None
        record = self.service.store.active("login", secret_key(value))
        return record.user_id if record is not None else None

    def _pending(self, tx: str | None) -> Record | None:
        return self.service.store.active("pending", tx) if tx else None

    def _save_pending(
        self, record: Record, data: dict[str, Any], *, user: str | None, grp: str | None
    ) -> None:
        remaining = (record.expires_at or 0) - self.service.store.clock()
        self.service.store.put(
            "pending",
            record.key,
            data,
            user_id=user,
            client_id=record.client_id,
            grp=grp,
            ttl=max(remaining, 1),
        )

    def _oauth_request(self, params: dict[str, str]) -> FormRequest:
        return FormRequest("GET", self.service.url("/authorize"), params, {})

    def _client_redirect(self, params: dict[str, str], error: str, description: str) -> Response:
        query = {"error": error, "error_description": description, "iss": self.service.config.issuer}
        if params.get("state"):
            query["state"] = params["state"]
        sep = "&" if "?" in params["redirect_uri"] else "?"
        return _no_store(
            RedirectResponse(f"{params['redirect_uri']}{sep}{urlencode(query)}", status_code=302)
        )

    # -- /authorize ----------------------------------------------------------------------

    def _purge(self) -> None:
        """Drop spent codes, pending authorizations and sign-ins now and then (one DELETE)."""
        now = self.service.store.clock()
        if now - self._purged_at >= PURGE_EVERY_S:
            self._purged_at = now
            self.service.store.purge_expired()

    async def authorize(self, request: Request) -> Response:
        self._purge()
        try:
            params = single_valued(list(request.query_params.multi_items()))
        except OAuth2Error as exc:
            return self._refuse(400, "oauth.invalid_request", str(exc.description))
        client_id = params.get("client_id", "")
        if not client_id:
            return self._refuse(400, "oauth.invalid_request", "missing client_id")
        try:
            client = await self.service.registry.resolve(client_id)
        except RegistrationError as exc:
            return self._refuse(400, f"oauth.{exc.error}", exc.description, client_id=client_id)
        redirect_uri = params.get("redirect_uri") or client.get_default_redirect_uri()
        if not redirect_uri or not client.check_redirect_uri(redirect_uri):
            # Never redirect to a URI the client did not register: that would be an open redirect.
            return self._refuse(
                400, "oauth.redirect_uri", "redirect_uri does not match a registered one", client_id=client_id
            )
        params["redirect_uri"] = redirect_uri
        try:
            self.service.server.get_consent_grant(self._oauth_request(params))
            resource = self.service.server.resource_for(params.get("resource"))
        except OAuth2Error as exc:
            self.service.audit(
                "rejected",
                reason=f"oauth.{exc.error}",
                status=400,
                message=str(exc.description),
                details={"client_id": client_id},
            )
            return self._client_redirect(params, str(exc.error), str(exc.description or exc.error))
        params["resource"] = resource
        tx = secrets.token_urlsafe(24)
        record = self.service.store.put(
            "pending",
            tx,
            {"params": params, "csrf": secrets.token_urlsafe(24)},
            client_id=client_id,
            ttl=PENDING_TTL,
        )
        user = self._user(request)
        if user is not None:
            self._save_pending(record, record.data, user=user, grp=None)
            return _no_store(RedirectResponse(f"/oauth/consent?{urlencode({'tx': tx})}", status_code=302))
        return await self._start_login(record, params.get("login_hint"))

    async def _start_login(self, record: Record, login_hint: str | None) -> Response:
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)  # RFC 7636: 43 to 128 characters
        try:
            url = await self.service.login.authorization_url(
                redirect_uri=self.service.url(LOGIN_CALLBACK),
                state=state,
                nonce=nonce,
                verifier=verifier,
                login_hint=login_hint,
            )
        except LoginError as exc:
            return self._refuse(503, "oauth.idp_unavailable", str(exc))
        data = {**record.data, "login": {"nonce": nonce, "verifier": verifier}}
        self._save_pending(record, data, user=None, grp=secret_key(state))
        response = RedirectResponse(url, status_code=302)
        set_cookie(response, LOGIN_TX_COOKIE, state, PENDING_TTL)
        return _no_store(response)

    async def login_callback(self, request: Request) -> Response:
        state = request.query_params.get("state", "")
        cookie = request.cookies.get(LOGIN_TX_COOKIE, "")
        if not state or not cookie or not hmac.compare_digest(state, cookie):
            return self._refuse(400, "oauth.state_mismatch", "sign-in state does not match this browser")
        found = [r for r in self.service.store.list("pending", grp=secret_key(state))]
        if len(found) != 1 or "login" not in found[0].data:
            return self._refuse(400, "oauth.state_unknown", "sign-in expired or unknown; start again")
        record = found[0]
        code = request.query_params.get("code")
        if not code:
            return self._refuse(
                400, "oauth.login_failed", f"sign-in failed: {request.query_params.get('error', 'no code')}"
            )
        login = record.data["login"]
        try:
            user = await self.service.login.finish(
                code=code,
                redirect_uri=self.service.url(LOGIN_CALLBACK),
                verifier=login["verifier"],
                nonce=login["nonce"],
            )
        except LoginError as exc:
            return self._refuse(400, "oauth.login_failed", str(exc))
        session = secrets.token_urlsafe(32)
        ttl = self.service.config.login_ttl
        self.service.store.put("login", secret_key(session), {}, user_id=user, ttl=ttl)
        data = {k: v for k, v in record.data.items() if k != "login"}
        self._save_pending(record, data, user=user, grp=None)
        self.service.audit("oauth.login", reason="oauth.login", details={"user": user})
        response = RedirectResponse(f"/oauth/consent?{urlencode({'tx': record.key})}", status_code=302)
        set_cookie(response, LOGIN_COOKIE, session, ttl)
        clear_cookie(response, LOGIN_TX_COOKIE)
        return _no_store(response)

    # -- consent -------------------------------------------------------------------------

    def _owned_pending(self, request: Request, tx: str | None) -> tuple[Record, str] | Response:
        user = self._user(request)
        record = self._pending(tx)
        if record is None:
            return self._refuse(
                400, "oauth.pending_unknown", "this authorization expired or is unknown; start again"
            )
        if user is None or record.user_id != user:
            return self._refuse(
                403, "oauth.pending_not_yours", "this authorization belongs to another sign-in"
            )
        return record, user

    async def consent(self, request: Request) -> Response:
        owned = self._owned_pending(request, request.query_params.get("tx"))
        if isinstance(owned, Response):
            return owned
        record, user = owned
        params = record.data["params"]
        scopes = params.get("scope", "").split()
        if self.consents.covers(
            user, params["client_id"], params["redirect_uri"], scopes, params["resource"]
        ):
            return await self._after_consent(record, user)
        client = self.service.registry.get(params["client_id"])
        if client is None:
            return self._refuse(400, "oauth.invalid_client", "this client has been revoked")
        return consent_page(
            tx=record.key,
            csrf=record.data["csrf"],
            client=client.display(),
            redirect_uri=params["redirect_uri"],
            scopes=scopes,
            resource=params["resource"],
            third_parties=self.service.third_parties_for(params["resource"]),
            upstreams=self.service.upstreams_for(params["resource"]),
            user=user,
        )

    async def decide(self, request: Request) -> Response:
        try:
            form = await read_form(request)
        except OAuth2Error as exc:
            return self._refuse(400, "oauth.invalid_request", str(exc.description))
        owned = self._owned_pending(request, form.get("tx"))
        if isinstance(owned, Response):
            return owned
        record, user = owned
        if not hmac.compare_digest(form.get("csrf", ""), record.data["csrf"]):
            return self._refuse(403, "oauth.csrf", "the form's CSRF token does not match")
        params = record.data["params"]
        if form.get("decision") != "allow":
            self.service.store.revoke("pending", record.key)
            self.service.audit(
                "oauth.consent_denied",
                reason="oauth.consent_denied",
                details={"user": user, "client_id": params["client_id"]},
            )
            return self._client_redirect(params, "access_denied", "the user denied the request")
        self.consents.grant(
            user,
            params["client_id"],
            params["redirect_uri"],
            params.get("scope", "").split(),
            params["resource"],
        )
        self.service.audit(
            "oauth.consent_granted",
            reason="oauth.consent_granted",
            details={
                "user": user,
                "client_id": params["client_id"],
                "redirect_uri": params["redirect_uri"],
                "scope": params.get("scope", ""),
            },
        )
        return await self._after_consent(record, user)

    async def _after_consent(self, record: Record, user: str) -> Response:
        params = record.data["params"]
        for provider in self.service.third_parties_for(params["resource"]):
            if not self.service.tokens.has_token(user, provider):
                return self._to_third_party(record, user, provider)
        return self._issue_code(record, user)

    def _to_third_party(self, record: Record, user: str, provider: str) -> Response:
        state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        cfg = self.service.config.third_parties[provider]
        url = authorization_url(
            cfg, redirect_uri=self.service.url(UPSTREAM_CALLBACK), state=state, verifier=verifier
        )
        data = {**record.data, "third_party": {"provider": provider, "verifier": verifier}}
        self._save_pending(record, data, user=user, grp=secret_key(state))
        response = RedirectResponse(url, status_code=302)
        # Set only now, after consent: an unconsented flow never reaches the third party.
        set_cookie(response, STATE_COOKIE, state, PENDING_TTL)
        return _no_store(response)

    def _issue_code(self, record: Record, user: str) -> Response:
        params = record.data["params"]
        if self.service.store.consume("pending", record.key) is None:
            return self._refuse(400, "oauth.pending_unknown", "this authorization was already completed")
        server = self.service.server
        oauth_request = self._oauth_request(params)
        grant_user = GrantUser(user, params["resource"])
        try:
            grant = server.get_consent_grant(oauth_request, end_user=grant_user)
        except OAuth2Error as exc:
            return self._client_redirect(params, str(exc.error), str(exc.description or exc.error))
        reply = server.create_authorization_response(oauth_request, grant_user=grant_user, grant=grant)
        self.service.audit(
            "oauth.code_issued",
            reason="oauth.code_issued",
            details={"user": user, "client_id": params["client_id"]},
        )
        return reply_response(reply)

    # -- third-party callback ------------------------------------------------------------

    async def upstream_callback(self, request: Request) -> Response:
        state = request.query_params.get("state", "")
        cookie = request.cookies.get(STATE_COOKIE, "")
        if not state or not cookie or not hmac.compare_digest(state, cookie):
            return self._refuse(
                400, "oauth.state_mismatch", "authorization state does not match this browser"
            )
        found = self.service.store.list("pending", grp=secret_key(state))
        user = self._user(request)
        if len(found) != 1 or "third_party" not in found[0].data:
            return self._refuse(400, "oauth.state_unknown", "authorization expired or unknown; start again")
        record = found[0]
        if user is None or record.user_id != user:
            return self._refuse(
                403, "oauth.pending_not_yours", "this authorization belongs to another sign-in"
            )
        third = record.data["third_party"]
        code = request.query_params.get("code")
        if not code:
            self.service.store.revoke("pending", record.key)
            return self._client_redirect(
                record.data["params"], "access_denied", "the third party refused access"
            )
        try:
            await self.service.tokens.exchange_code(
                user,
                third["provider"],
                code=code,
                redirect_uri=self.service.url(UPSTREAM_CALLBACK),
                verifier=third["verifier"],
            )
        except ThirdPartyError as exc:
            return self._refuse(502, "oauth.third_party", str(exc), provider=third["provider"])
        self.service.audit(
            "oauth.third_party_authorized",
            reason="oauth.third_party_authorized",
            details={"user": user, "provider": third["provider"]},
        )
        data = {k: v for k, v in record.data.items() if k != "third_party"}
        self._save_pending(record, data, user=user, grp=None)
        fresh = self.service.store.active("pending", record.key)
        assert fresh is not None
        response = await self._after_consent(fresh, user)
        if STATE_COOKIE not in response.headers.get("set-cookie", ""):
            clear_cookie(response, STATE_COOKIE)
        return response

    def routes(self) -> list[Route]:
        return [
            Route("/authorize", self.authorize, methods=["GET"]),
            Route(LOGIN_CALLBACK, self.login_callback, methods=["GET"]),
            Route("/oauth/consent", self.consent, methods=["GET"]),
            Route("/oauth/consent", self.decide, methods=["POST"]),
            Route(UPSTREAM_CALLBACK, self.upstream_callback, methods=["GET"]),
        ]
