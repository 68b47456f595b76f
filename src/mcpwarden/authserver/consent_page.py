"""The consent page and the cookies of the browser flow.

The page names who is asking (client name, an https logo, the host its answer goes to),
what for (scopes, the gateway resource, third parties the gateway will contact on the
user's behalf) and carries a CSRF token bound to the pending authorization. It may not be
framed (`frame-ancestors 'none'`, `X-Frame-Options: DENY`), so a malicious page cannot
overlay it to collect a click. Everything shown is HTML-escaped; the logo is an <img>
only when its URL is https, and the client URI is shown as text, never as a link or a
redirect target.

Cookies are `__Host-` prefixed (Secure, Path=/, no Domain), HttpOnly and SameSite=Lax,
so other sites cannot read them, overwrite them from a subdomain, or send them along
with a cross-site POST.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import HTMLResponse, Response

LOGIN_COOKIE = "__Host-mcpwarden-login"
LOGIN_TX_COOKIE = "__Host-mcpwarden-login-tx"
STATE_COOKIE = "__Host-mcpwarden-state"

PAGE_HEADERS = {
    "content-security-policy": "default-src 'none'; img-src https:; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    "referrer-policy": "same-origin",  # no-referrer would make Chromium send `Origin: null` on the form POST
    "x-content-type-options": "nosniff",
}


def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="lax")


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="lax")


def consent_page(
    *,
    tx: str,
    csrf: str,
    client: dict[str, Any],
    redirect_uri: str,
    scopes: list[str],
    resource: str,
    third_parties: list[str],
    upstreams: list[str],
    user: str,
) -> HTMLResponse:
    name = escape(str(client["name"]))
    logo = client.get("logo_uri")
    logo_html = f'<img src="{escape(logo, quote=True)}" alt="" width="48" height="48">' if logo else ""
    client_uri = client.get("client_uri")
    about = f"<p>Client web site: <code>{escape(client_uri)}</code></p>" if client_uri else ""
    host = escape(urlsplit(redirect_uri).netloc or redirect_uri)
    scope_items = "".join(f"<li><code>{escape(s)}</code></li>" for s in scopes) or "<li>(no scopes)</li>"
    parties = "".join(f"<li>{escape(p)}</li>" for p in third_parties)
    parties_html = (
        "<p>The gateway will ask these services for access on your behalf:</p>"
        f"<ul id=third-parties>{parties}</ul>"
        if third_parties
        else ""
    )
    body = f"""<!doctype html>
<html lang=en><head><meta charset=utf-8><title>Authorize {name}</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}</style></head>
<body>
<h1>{logo_html} <span id=client-name>{name}</span> wants to use mcpwarden as <code>{escape(user)}</code></h1>
<p>Client id: <code id=client-id>{escape(str(client["client_id"]))}</code></p>
{about}
<p>After you decide, you will be sent to <strong id=redirect-host>{host}</strong>.</p>
<p>Resource: <code>{escape(resource)}</code>, reaching the servers
<span id=upstreams>{escape(", ".join(upstreams)) or "(none)"}</span></p>
<p>Permissions:</p><ul id=scopes>{scope_items}</ul>
{parties_html}
<form method=post action="/oauth/consent">
<input type=hidden name=tx value="{escape(tx, quote=True)}">
<input type=hidden name=csrf value="{escape(csrf, quote=True)}">
<button id=allow name=decision value=allow type=submit>Allow</button>
<button id=deny name=decision value=deny type=submit>Deny</button>
</form>
</body></html>"""
    return HTMLResponse(body, headers=PAGE_HEADERS)


def error_page(status: int, title: str, detail: str) -> HTMLResponse:
    body = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title></head>"
        f"<body><h1>{escape(title)}</h1><p id=error>{escape(detail)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)
