"""Cost of the gateway's authorization server per token, next to validating one.

Run: .venv/bin/python bench/authserver_tokens.py [--n 300] [--repeats 3]

Offline and in-process: an `AuthorizationService` on a temporary SQLite store, one public
client, codes prepared before timing. Timed, per operation (best of the repeats):

* baseline: the resource server validating a token this server issued, cache miss
  (what a request carrying a new token costs);
* code redemption at /token (authlib grant, PKCE S256 check, atomic single-use code,
  JWT signing, refresh-token record);
* refresh rotation (consume the old refresh token, issue and store the new pair).

Ratios are against the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import httpx  # noqa: E402
from starlette.applications import Starlette  # noqa: E402

from mcpwarden.auth.config import AuthConfig  # noqa: E402
from mcpwarden.auth.tokens import TokenValidator  # noqa: E402
from mcpwarden.authserver.config import AuthServerConfig  # noqa: E402
from mcpwarden.authserver.endpoints import Endpoints  # noqa: E402
from mcpwarden.authserver.grants import FormRequest, GrantUser  # noqa: E402
from mcpwarden.authserver.service import AuthorizationService  # noqa: E402
from mcpwarden.authserver.store import SQLiteOAuthStore  # noqa: E402

ISSUER = "http://127.0.0.1:8766"
RESOURCE = f"{ISSUER}/mcp"
REDIRECT = "http://127.0.0.1:9/cb"


def service(folder: Path) -> AuthorizationService:
    config = AuthServerConfig.model_validate(
        {
            "issuer": ISSUER,
            "idp": {"issuer": "https://idp.bench.test", "client_id": "gw", "client_secret": "env:X"},
        }
    )
    return AuthorizationService(
        config,
        store=SQLiteOAuthStore(folder / "bench.sqlite3"),
        resources=[RESOURCE],
        upstream_resources={},
        providers_by_upstream={},
        audit=lambda *a, **k: None,
    )


def codes(svc: AuthorizationService, client_id: str, n: int) -> list[tuple[str, str]]:
    """(code, verifier) pairs issued through authlib's authorization response."""
    out = []
    for _ in range(n):
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        params = {
            "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": "mcp:tools",
            "state": "s", "code_challenge": challenge, "code_challenge_method": "S256", "resource": RESOURCE,
        }  # fmt: skip
        request = FormRequest("GET", f"{ISSUER}/authorize", params, {})
        user = GrantUser("alice", RESOURCE)
        grant = svc.server.get_consent_grant(request, end_user=user)
        reply = svc.server.create_authorization_response(request, grant_user=user, grant=grant)
        location = reply.location or ""
        out.append((location.split("code=", 1)[1].split("&", 1)[0], verifier))
    return out


def token(svc: AuthorizationService, form: dict[str, str]) -> dict[str, Any]:
    reply = svc.server.create_token_response(FormRequest("POST", f"{ISSUER}/token", form, {}))
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


async def run(n: int, repeats: int) -> None:
    best = {"validate": float("inf"), "redeem": float("inf"), "refresh": float("inf")}
    with tempfile.TemporaryDirectory() as tmp:
        svc = service(Path(tmp))
        client_id = svc.registry.register(
            {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}
        )["client_id"]
        transport = httpx.ASGITransport(app=Starlette(routes=Endpoints(svc).routes()))
        for _ in range(repeats):
            pairs = codes(svc, client_id, n)
            start = time.perf_counter()
            tokens = [
                token(svc, {"grant_type": "authorization_code", "code": c, "redirect_uri": REDIRECT,
                            "client_id": client_id, "code_verifier": v})
                for c, v in pairs
            ]  # fmt: skip
            best["redeem"] = min(best["redeem"], (time.perf_counter() - start) / n)
            start = time.perf_counter()
            for t in tokens:
                token(
                    svc,
                    {
                        "grant_type": "refresh_token",
                        "refresh_token": t["refresh_token"],
                        "client_id": client_id,
                    },
                )
            best["refresh"] = min(best["refresh"], (time.perf_counter() - start) / n)
            validator = TokenValidator(
                AuthConfig(issuer=ISSUER, token_cache_size=10 * n),
                client=httpx.AsyncClient(transport=transport),
            )
            await validator.start()
            start = time.perf_counter()
            for t in tokens:
                await validator.authenticate(t["access_token"], resource=RESOURCE)
            best["validate"] = min(best["validate"], (time.perf_counter() - start) / n)
            await validator.aclose()
        await svc.aclose()
    base = best["validate"]
    print(f"{n} tokens, best of {repeats} repeats (µs per operation; ratio to the baseline)")
    for name, label in (
        ("validate", "baseline: validate an issued token (RS256, cache miss)"),
        ("redeem", "redeem a code at /token (PKCE, single use, sign, store)"),
        ("refresh", "rotate a refresh token"),
    ):
        print(f"  {label:58s} {best[name] * 1e6:9.1f} µs  x{best[name] / base:5.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.n, args.repeats))


if __name__ == "__main__":
    main()
