"""Cost of access-token validation: validated-token cache hit vs miss, in microseconds.

Run: .venv/bin/python bench/auth_tokens.py [--n 2000] [--repeats 5] [--alg RS256|ES256]

Offline and in-process: the issuer's metadata and JWKS are served by httpx.MockTransport
and loaded once before timing, so the numbers are the gateway's own CPU cost per
request, not network time. "miss" validates a token never seen before (header checks,
key lookup, signature verification, claim checks, cache insert); "hit" re-validates a
token already in the cache (hash + LRU lookup + scope check). Also reported: an opaque
token whose introspection result is cached, and the key fetches made during the run
(1 = keys were never fetched per request). Best of several repeats, to keep noise
from other processes out of the number.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import httpx  # noqa: E402
from joserfc import jws  # noqa: E402
from joserfc.jwk import ECKey, RSAKey  # noqa: E402

from mcpwarden.auth.config import AuthConfig  # noqa: E402
from mcpwarden.auth.tokens import TokenValidator  # noqa: E402

ISSUER = "https://idp.bench.test"
RESOURCE = "https://gw.bench.test/mcp"


class Issuer:
    def __init__(self, alg: str) -> None:
        self.alg = alg
        self.key: RSAKey | ECKey = (
            RSAKey.generate_key(2048, parameters={"kid": "k1"})
            if alg == "RS256"
            else ECKey.generate_key("P-256", parameters={"kid": "k1"})
        )
        self.jwks_fetches = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if "/.well-known/" in path:
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "jwks_uri": f"{ISSUER}/jwks",
                    "introspection_endpoint": f"{ISSUER}/introspect",
                },
            )
        if path == "/jwks":
            self.jwks_fetches += 1
            return httpx.Response(200, json={"keys": [self.key.as_dict(private=False)]})
        if path == "/introspect":
            now = int(time.time())
            return httpx.Response(
                200,
                json={"active": True, "sub": "svc", "aud": RESOURCE, "exp": now + 3600, "scope": "mcp:tools"},
            )
        return httpx.Response(404)

    def token(self, n: int) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": f"user-{n}",
            "aud": RESOURCE,
            "iat": now,
            "exp": now + 3600,
            "scope": "mcp:tools mcp:read",
            "client_id": "bench-client",
            "roles": ["mcp.user"],
        }
        header = {"alg": self.alg, "kid": "k1", "typ": "at+jwt"}
        return jws.serialize_compact(header, json.dumps(claims).encode(), self.key)


async def _time_per_op(validator: TokenValidator, tokens: list[str]) -> float:
    start = time.perf_counter()
    for token in tokens:
        await validator.validate(token, resource=RESOURCE)
    return (time.perf_counter() - start) / len(tokens) * 1e6


async def run(n: int, repeats: int, alg: str) -> dict[str, float]:
    issuer = Issuer(alg)
    client = httpx.AsyncClient(transport=httpx.MockTransport(issuer.handler))
    os.environ.setdefault("MCPW_BENCH_SECRET", "bench-secret")
    config = AuthConfig(
        issuer=ISSUER,
        token_cache_size=max(n * 2, 10),
        introspection={"client_id": "gw", "client_secret": "env:MCPW_BENCH_SECRET"},
    )
    validator = TokenValidator(config, client=client)
    await validator.start()
    best_miss = best_hit = best_opaque = float("inf")
    for _ in range(repeats):
        validator._cache.clear()
        tokens = [issuer.token(i) for i in range(n)]
        best_miss = min(best_miss, await _time_per_op(validator, tokens))
        best_hit = min(best_hit, await _time_per_op(validator, tokens))
        opaque = ["opaque-bench-token"] * n
        await validator.validate(opaque[0], resource=RESOURCE)
        best_opaque = min(best_opaque, await _time_per_op(validator, opaque))
    await client.aclose()
    return {
        "miss_us": best_miss,
        "hit_us": best_hit,
        "opaque_hit_us": best_opaque,
        "ratio": best_miss / best_hit,
        "jwks_fetches": float(issuer.jwks_fetches),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--alg", choices=["RS256", "ES256"], default="RS256")
    args = parser.parse_args()
    result = asyncio.run(run(args.n, args.repeats, args.alg))
    print(f"token validation ({args.alg}, n={args.n}, best of {args.repeats})")
    print(f"  cache miss (full verification): {result['miss_us']:8.1f} us/op")
    print(f"  cache hit:                      {result['hit_us']:8.1f} us/op")
    print(f"  opaque token, already validated:   {result['opaque_hit_us']:4.1f} us/op")
    print(f"  miss/hit ratio: {result['ratio']:.1f}x")
    print(f"  JWKS fetches during the run: {int(result['jwks_fetches'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
