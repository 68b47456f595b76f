"""Each attack of issue 14 against the real gateway, IdP and third party: refused, and audited.

Consent riding (a second client, another redirect URI, wider scopes), redirect-URI games,
PKCE missing or `plain`, code and refresh-token reuse, forged `state`, framing and cookie
theft, CSRF on the consent form, another user's pending authorization, and user B's call
getting user A's third-party token.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from as_kit import (
    Browser,
    Pkce,
    authorize_params,
    consent_fields,
    mcp_initialize,
    redeem,
    register_client,
    run_authorization,
)
from as_stack import (
    Stack,
    authorized,
    forget_third_party_tokens,
    oauth_cli,
    recorded_bearers,
    userinfo_subject,
)

pytestmark = pytest.mark.integration

REDIRECT = "http://127.0.0.1:9/cb"


def reasons(stack: Stack) -> list[str]:
    return [str(r.get("reason")) for r in stack.gateway.audit()]


def start(browser: Browser, stack: Stack, params: dict[str, str]) -> tuple[str, httpx.Response]:
    response = browser.request("GET", f"{stack.base}/authorize?{urlencode(params)}")
    return browser.follow(response, params["redirect_uri"])


# -- consent cannot be ridden -----------------------------------------------------------------


def test_consent_given_to_one_client_does_not_cover_a_second_client(as_stack: Stack) -> None:
    browser = Browser()
    resource = as_stack.resource("rec")
    first = register_client(as_stack.base, [REDIRECT])
    second = register_client(as_stack.base, [REDIRECT], client_name="second client")
    run_authorization(browser, as_stack.base, authorize_params(first, REDIRECT, Pkce(), resource=resource))
    location, page = start(browser, as_stack, authorize_params(second, REDIRECT, Pkce(), resource=resource))
    assert not location.startswith(REDIRECT), "the second client got a code on the first client's consent"
    assert "id=allow" in page.text and "second client" in page.text
    assert "<span id=upstreams>rec</span>" in page.text and "<li>demo</li>" in page.text


def test_a_changed_redirect_uri_asks_for_consent_again(as_stack: Stack) -> None:
    other = "http://127.0.0.1:9/other"
    client = register_client(as_stack.base, [REDIRECT, other])
    browser = Browser()
    resource = as_stack.resource("rec")
    run_authorization(browser, as_stack.base, authorize_params(client, REDIRECT, Pkce(), resource=resource))
    _, page = run_authorization(
        browser, as_stack.base, authorize_params(client, other, Pkce(), resource=resource)
    )
    assert page is not None


def test_wider_scopes_ask_for_consent_again(as_stack: Stack) -> None:
    client = register_client(as_stack.base, [REDIRECT])
    browser = Browser()
    resource = as_stack.resource("rec")
    run_authorization(browser, as_stack.base, authorize_params(client, REDIRECT, Pkce(), resource=resource))
    wider = authorize_params(client, REDIRECT, Pkce(), resource=resource, scope="mcp:tools mcp:read")
    _, page = run_authorization(browser, as_stack.base, wider)
    assert page is not None and "mcp:read" in page.text


def test_a_replayed_consent_form_of_a_finished_authorization_is_refused(as_stack: Stack) -> None:
    client = register_client(as_stack.base, [REDIRECT])
    browser = Browser()
    _, page = run_authorization(
        browser, as_stack.base, authorize_params(client, REDIRECT, Pkce(), resource=as_stack.resource("rec"))
    )
    assert page is not None
    tx, csrf = consent_fields(page)
    replay = browser.request(
        "POST", f"{as_stack.base}/oauth/consent", data={"tx": tx, "csrf": csrf, "decision": "allow"}
    )
    assert replay.status_code == 400 and "location" not in replay.headers


# -- redirect URIs ------------------------------------------------------------------------------

WEB_REDIRECT = "https://app.example/cb"


@pytest.mark.parametrize(
    "variant",
    [
        "https://app.example/cb/",
        "https://app.example/cb?extra=1",
        "https://app.example/CB",
        "https://app.example:8443/cb",
        "http://app.example/cb",
        "https://app.example.evil.test/cb",
        "https://evil.test/cb",
        "https://app.example/cb#frag",
    ],
)
def test_redirect_uri_variations_are_refused_without_a_redirect(as_stack: Stack, variant: str) -> None:
    client = register_client(as_stack.base, [WEB_REDIRECT])
    params = authorize_params(client, variant, Pkce(), resource=as_stack.resource("rec"))
    response = httpx.get(f"{as_stack.base}/authorize", params=params)
    assert response.status_code == 400 and "location" not in response.headers
    assert "oauth.redirect_uri" in reasons(as_stack)


def test_a_native_client_may_change_the_loopback_port_and_a_web_client_may_not(as_stack: Stack) -> None:
    native = register_client(as_stack.base, ["http://127.0.0.1/cb"], application_type="native")
    web = register_client(as_stack.base, ["http://127.0.0.1/cb"])
    resource = as_stack.resource("rec")
    moved = "http://127.0.0.1:51234/cb"
    for_native = httpx.get(
        f"{as_stack.base}/authorize", params=authorize_params(native, moved, Pkce(), resource=resource)
    )
    for_web = httpx.get(
        f"{as_stack.base}/authorize", params=authorize_params(web, moved, Pkce(), resource=resource)
    )
    assert for_native.status_code == 302 and not for_native.headers["location"].startswith(moved)
    assert for_web.status_code == 400 and "location" not in for_web.headers


# -- PKCE, codes, refresh tokens -------------------------------------------------------------


@pytest.mark.parametrize("pkce_case", ["missing", "plain"])
def test_authorization_without_s256_pkce_is_refused(as_stack: Stack, pkce_case: str) -> None:
    client = register_client(as_stack.base, [REDIRECT])
    pkce = None if pkce_case == "missing" else Pkce()
    params = authorize_params(client, REDIRECT, pkce, resource=as_stack.resource("rec"), method="plain")
    response = httpx.get(f"{as_stack.base}/authorize", params=params)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert response.headers["location"].startswith(REDIRECT)
    assert query["error"] == ["invalid_request"] and query["iss"] == [as_stack.base] and "code" not in query
    assert query["state"] == [params["state"]]


def _code(stack: Stack) -> tuple[str, str, Pkce]:
    client = register_client(stack.base, [REDIRECT])
    pkce = Pkce()
    query, _ = run_authorization(
        Browser(), stack.base, authorize_params(client, REDIRECT, pkce, resource=stack.resource("rec"))
    )
    return client, query["code"][0], pkce


def test_a_wrong_code_verifier_is_refused(as_stack: Stack) -> None:
    client, code, _ = _code(as_stack)
    response = redeem(as_stack.base, client, code, REDIRECT, Pkce(), as_stack.resource("rec"))
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a_reused_code_is_refused_and_revokes_what_it_issued(as_stack: Stack) -> None:
    client, code, pkce = _code(as_stack)
    first = redeem(as_stack.base, client, code, REDIRECT, pkce, as_stack.resource("rec"))
    again = redeem(as_stack.base, client, code, REDIRECT, pkce, as_stack.resource("rec"))
    refresh = httpx.post(
        f"{as_stack.base}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first.json()["refresh_token"],
            "client_id": client,
        },
    )
    assert first.status_code == 200
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert refresh.status_code == 400
    assert "oauth.code_reuse" in reasons(as_stack)


def test_a_code_redeemed_at_another_redirect_uri_is_refused(as_stack: Stack) -> None:
    client, code, pkce = _code(as_stack)
    response = redeem(
        as_stack.base, client, code, "http://127.0.0.1:9/elsewhere", pkce, as_stack.resource("rec")
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_refresh_token_reuse_revokes_the_whole_family(as_stack: Stack) -> None:
    client, token = authorized(as_stack, "alice")

    def refresh(value: object) -> httpx.Response:
        return httpx.post(
            f"{as_stack.base}/token",
            data={"grant_type": "refresh_token", "refresh_token": value, "client_id": client},
        )

    rotated = refresh(token["refresh_token"])
    replayed = refresh(token["refresh_token"])
    newest = refresh(rotated.json()["refresh_token"])
    assert rotated.status_code == 200
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_grant"
    assert newest.status_code == 400, "the legitimate holder's newest token must die with the family"
    assert "oauth.refresh_reuse" in reasons(as_stack)


# -- state, cookies, CSRF, framing ---------------------------------------------------------------


def _to_third_party(stack: Stack, browser: Browser, user: str) -> tuple[list[dict[str, str]], httpx.Response]:
    """Run to the redirect towards the third party; the cookie jars seen before consent, and that redirect."""
    forget_third_party_tokens(stack, user)
    client = register_client(stack.base, [REDIRECT])
    params = authorize_params(client, REDIRECT, Pkce(), resource=stack.resource("rec"), user=user)
    _, page = start(browser, stack, params)
    before = [dict(browser.jar)]
    tx, csrf = consent_fields(page)
    answer = browser.request(
        "POST", f"{stack.base}/oauth/consent", data={"tx": tx, "csrf": csrf, "decision": "allow"}
    )
    assert answer.headers["location"].startswith(
        f"{stack.provider.issuer}/auth?response_type=code&client_id=gw-third"
    )
    return before, answer


def test_the_state_cookie_is_set_only_after_consent(as_stack: Stack) -> None:
    browser = Browser()
    before, answer = _to_third_party(as_stack, browser, "bob")
    assert all("__Host-mcpwarden-state" not in jar for jar in before)
    assert "__Host-mcpwarden-state" in browser.jar
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("__Host-mcpwarden-state="))
    assert all(attr in cookie.lower() for attr in ("secure", "httponly", "samesite=lax", "path=/"))


def test_a_forged_state_at_the_third_party_callback_is_refused(as_stack: Stack) -> None:
    browser = Browser()
    _, answer = _to_third_party(as_stack, browser, "bob")
    state = parse_qs(urlsplit(answer.headers["location"]).query)["state"][0]
    forged = browser.request("GET", f"{as_stack.base}/oauth/upstream/callback?code=x&state=forged-{state}")
    other_browser = Browser().request("GET", f"{as_stack.base}/oauth/upstream/callback?code=x&state={state}")
    assert forged.status_code == 400 and other_browser.status_code == 400
    assert reasons(as_stack).count("oauth.state_mismatch") >= 2


def test_a_sign_in_callback_without_its_browser_state_is_refused(as_stack: Stack) -> None:
    response = httpx.get(f"{as_stack.base}/oauth/login/callback", params={"code": "x", "state": "y"})
    assert response.status_code == 400 and "oauth.state_mismatch" in reasons(as_stack)


def test_the_consent_page_cannot_be_framed_and_sets_host_prefixed_cookies(as_stack: Stack) -> None:
    client = register_client(as_stack.base, [REDIRECT])
    browser = Browser()
    params = authorize_params(client, REDIRECT, Pkce(), resource=as_stack.resource("rec"))
    start_response = browser.request("GET", f"{as_stack.base}/authorize?{urlencode(params)}")
    _, page = browser.follow(start_response, REDIRECT)
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert "__Host-mcpwarden-login" in browser.jar
    assert all(name.startswith("__Host-") for name in browser.jar if "mcpwarden" in name)


def test_a_consent_post_with_a_wrong_csrf_token_is_refused(as_stack: Stack) -> None:
    client = register_client(as_stack.base, [REDIRECT])
    browser = Browser()
    _, page = start(
        browser, as_stack, authorize_params(client, REDIRECT, Pkce(), resource=as_stack.resource("rec"))
    )
    tx, _ = consent_fields(page)
    answer = browser.request(
        "POST", f"{as_stack.base}/oauth/consent", data={"tx": tx, "csrf": "guess", "decision": "allow"}
    )
    assert answer.status_code == 403 and "location" not in answer.headers
    assert "oauth.csrf" in reasons(as_stack)


def test_another_users_sign_in_cannot_continue_a_pending_authorization(as_stack: Stack) -> None:
    alice, bob = Browser(), Browser()
    client = register_client(as_stack.base, [REDIRECT])
    resource = as_stack.resource("rec")
    _, page = start(
        alice, as_stack, authorize_params(client, REDIRECT, Pkce(), resource=resource, user="alice")
    )
    tx, csrf = consent_fields(page)
    run_authorization(
        bob,
        as_stack.base,
        authorize_params(
            register_client(as_stack.base, [REDIRECT]), REDIRECT, Pkce(), resource=resource, user="bob"
        ),
    )
    taken = bob.request(
        "POST", f"{as_stack.base}/oauth/consent", data={"tx": tx, "csrf": csrf, "decision": "allow"}
    )
    assert taken.status_code == 403 and "oauth.pending_not_yours" in reasons(as_stack)


# -- client display: no open redirect through logo or client URI ----------------------------------


def test_logo_and_client_uri_are_shown_only_as_https_and_never_followed(as_stack: Stack) -> None:
    client = register_client(
        as_stack.base, [REDIRECT], logo_uri="http://evil.test/logo.png", client_uri="javascript:alert(1)"
    )
    browser = Browser()
    _, page = start(
        browser, as_stack, authorize_params(client, REDIRECT, Pkce(), resource=as_stack.resource("rec"))
    )
    assert "<img" not in page.text and "evil.test" not in page.text and "javascript:" not in page.text
    to_client_uri = httpx.get(
        f"{as_stack.base}/authorize",
        params=authorize_params(
            client, "https://evil.test/landing", Pkce(), resource=as_stack.resource("rec")
        ),
    )
    assert to_client_uri.status_code == 400 and "location" not in to_client_uri.headers
    good = register_client(as_stack.base, [REDIRECT], logo_uri="https://cdn.example/logo.png")
    _, good_page = start(
        Browser(), as_stack, authorize_params(good, REDIRECT, Pkce(), resource=as_stack.resource("rec"))
    )
    assert '<img src="https://cdn.example/logo.png"' in good_page.text


# -- third-party tokens stay with their user ------------------------------------------------------


def test_user_b_never_gets_user_a_third_party_token(as_stack: Stack) -> None:
    _, alice = authorized(as_stack, "alice")
    _, bob = authorized(as_stack, "bob")
    mark = len(recorded_bearers(as_stack))
    assert mcp_initialize(as_stack.resource("rec"), str(alice["access_token"])).status_code == 200
    alice_sent = set(recorded_bearers(as_stack)[mark:])
    mark = len(recorded_bearers(as_stack))
    assert mcp_initialize(as_stack.resource("rec"), str(bob["access_token"])).status_code == 200
    bob_sent = set(recorded_bearers(as_stack)[mark:])
    assert {userinfo_subject(as_stack, t) for t in alice_sent} == {"alice"}
    assert {userinfo_subject(as_stack, t) for t in bob_sent} == {"bob"}
    revoke = oauth_cli(as_stack, "tokens", "revoke", "--user", "bob")
    assert revoke.returncode == 0, revoke.stderr
    mark = len(recorded_bearers(as_stack))
    without = mcp_initialize(as_stack.resource("rec"), str(bob["access_token"]))
    assert "result" not in json.loads(without.text), "bob's call went through without bob's own authorization"
    assert not (set(recorded_bearers(as_stack)[mark:]) & alice_sent), "bob's call carried alice's token"


# -- codes bound to their client and resource; registration input ---------------------------------


def test_a_code_issued_to_one_client_is_refused_for_another(as_stack: Stack) -> None:
    _, code, pkce = _code(as_stack)
    thief = register_client(as_stack.base, [REDIRECT])
    response = redeem(as_stack.base, thief, code, REDIRECT, pkce, as_stack.resource("rec"))
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a_code_cannot_be_redeemed_for_another_resource(as_stack: Stack) -> None:
    client, code, pkce = _code(as_stack)
    response = redeem(as_stack.base, client, code, REDIRECT, pkce, as_stack.resource())
    assert response.status_code == 400 and response.json()["error"] == "invalid_target"


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
        (
            {"redirect_uris": ["https://a.example/cb"], "application_type": "desktop"},
            "invalid_client_metadata",
        ),
        ({"redirect_uris": ["https://a.example/cb"], "grant_types": ["password"]}, "invalid_client_metadata"),
    ],
)
def test_registration_with_unsafe_metadata_is_refused_and_audited(
    as_stack: Stack, metadata: dict[str, object], error: str
) -> None:
    response = httpx.post(f"{as_stack.base}/register", json=metadata)
    assert response.status_code == 400 and response.json()["error"] == error
    assert f"oauth.{error}" in reasons(as_stack)
