"""What authentication and policy cost the gateway: throughput with auth on vs off.

Starts one SDK server (Streamable HTTP) and three gateways in front of it, all as real
processes: auth off, auth on (JWT bearer tokens validated on every request), and auth on
plus a 100-rule policy. Rounds of concurrent small tools/call requests alternate between
them in one run, so machine noise hits every variant alike; the medians and the ratios
to auth-off are printed. Each client presents one token for its whole session, which is
the steady state a real client produces (the validated-token cache answers); the cost of
a first-seen token and of one policy decision are measured in-process and printed too,
reusing bench/auth_tokens.py and bench/policy_decision.py.

Offline: the issuer is a loopback HTTP server in this process publishing metadata and a
JWKS for a key generated here.

    .venv/bin/python bench/auth_overhead.py [--rounds 6] [--calls 400] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import yaml
from joserfc import jws
from joserfc.jwk import RSAKey

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

import auth_tokens  # noqa: E402
import policy_decision  # noqa: E402

from gwtest.procs import FEATURES_SERVER, gateway, http_server, http_upstream  # noqa: E402
from gwtest.raw import HEADERS, init_body  # noqa: E402
from mcpwarden.policy import PolicyEngine, parse_policy  # noqa: E402
from mcpwarden.types import Principal  # noqa: E402


class LocalIssuer:
    """OIDC discovery + JWKS on loopback, and a signer for the matching tokens."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "bench", "alg": "RS256", "use": "sig"})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.endswith("/jwks"):
                    doc: dict[str, Any] = {"keys": [outer.key.as_dict(private=False)]}
                elif "/.well-known/" in self.path:
                    doc = {"issuer": outer.issuer, "jwks_uri": f"{outer.issuer}/jwks"}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                body = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                return

        return Handler

    def token(self, audience: str, subject: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "client_id": "bench-client",
            "aud": audience,
            "iat": now,
            "exp": now + 3600,
            "scope": "mcp:tools",
            "roles": ["mcp.user", "role3"],
        }
        return jws.serialize_compact(
            {"alg": "RS256", "kid": "bench", "typ": "at+jwt"}, json.dumps(claims).encode(), self.key
        )

    def close(self) -> None:
        self.server.shutdown()


def policy_file(directory: Path, n_rules: int) -> Path:
    """The 100-rule policy of bench/policy_decision.py plus the rule that lets callers use echo."""
    document = policy_decision.build_policy(n_rules - 1)
    document["rules"].append(
        {"id": "bench", "roles": ["mcp.user"], "upstreams": ["bench"], "tools": ["echo"]}
    )
    path = directory / "policy.yaml"
    path.write_text(yaml.safe_dump({"version": 1, **document}))
    return path


async def open_session(client: httpx.AsyncClient, url: str, extra: dict[str, str]) -> dict[str, str]:
    r = await client.post(url, content=orjson.dumps(init_body()), headers={**HEADERS, **extra})
    r.raise_for_status()
    h = {
        **HEADERS,
        **extra,
        "mcp-session-id": r.headers["mcp-session-id"],
        "mcp-protocol-version": "2025-11-25",
    }
    await client.post(url, content=b'{"jsonrpc":"2.0","method":"notifications/initialized"}', headers=h)
    return h


async def round_(url: str, calls: int, concurrency: int, tokens: list[str | None]) -> float:
    """Requests per second of `concurrency` clients, each with its own session and token."""
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency * 2)) as client:
        sessions = [
            await open_session(client, url, {"authorization": f"Bearer {t}"} if t else {}) for t in tokens
        ]
        per_worker = calls // concurrency

        async def worker(headers: dict[str, str]) -> None:
            for i in range(per_worker):
                body = orjson.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": i + 10,
                        "method": "tools/call",
                        "params": {"name": "echo", "arguments": {"text": "ping"}},
                    }
                )
                r = await client.post(url, content=body, headers=headers)
                r.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker(h) for h in sessions))
        return per_worker * concurrency / (time.perf_counter() - started)


@contextmanager
def gateways(upstream_url: str, issuer: str, workdir: Path) -> Iterator[dict[str, str]]:
    auth = {"issuer": issuer, "leeway": 5}
    base = {"upstreams": {"bench": http_upstream(upstream_url)}}
    variants = {
        "auth off": base,
        "auth on": {**base, "auth": auth},
        "auth + policy": {**base, "auth": auth, "policy": str(policy_file(workdir, 100))},
    }
    with ExitStack() as stack:
        yield {name: stack.enter_context(gateway(cfg)).url("bench") for name, cfg in variants.items()}


def throughput(args: argparse.Namespace) -> dict[str, float]:
    issuer = LocalIssuer()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="mcpw-bench-") as tmp,
            http_server(FEATURES_SERVER, "--name", "bench") as (upstream_url, _),
            gateways(upstream_url, issuer.issuer, Path(tmp)) as urls,
        ):
            tokens = {
                name: [
                    issuer.token(url, f"user{i}") if name != "auth off" else None
                    for i in range(args.concurrency)
                ]
                for name, url in urls.items()
            }
            for name, url in urls.items():  # warm-up: keys loaded, pools open, code paths hot
                asyncio.run(round_(url, 100, 2, tokens[name][:2]))
            rps: dict[str, list[float]] = {name: [] for name in urls}
            names = list(urls)
            for r in range(args.rounds):
                order = names[r % len(names) :] + names[: r % len(names)]
                for name in order:
                    rps[name].append(
                        asyncio.run(round_(urls[name], args.calls, args.concurrency, tokens[name]))
                    )
    finally:
        issuer.close()
    return {name: statistics.median(values) for name, values in rps.items()}


def policy_decision_us(n_rules: int, n: int) -> float:
    engine = PolicyEngine(parse_policy(policy_decision.build_policy(n_rules)))
    who = Principal(subject="alice", claims={"roles": ["reader", "role3"]})
    return policy_decision.measure(lambda: engine.decide(who, "up3", "tool", "tool3"), n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()

    tokens = asyncio.run(auth_tokens.run(1000, 3, "RS256"))
    decision = policy_decision_us(100, 20000)
    rps = throughput(args)

    print("in-process costs (best of repeats)")
    print(f"  token validation, cache miss (RS256 verify + claims): {tokens['miss_us']:8.1f} us/op")
    print(f"  token validation, cache hit:                          {tokens['hit_us']:8.1f} us/op")
    print(f"  one policy decision, 100 rules:                       {decision:8.1f} us/op")
    print(
        f"\ngateway throughput, small tools/call (echo) over an HTTP upstream, {args.concurrency} clients, "
        f"median of {args.rounds} alternating rounds x {args.calls} calls"
    )
    off = rps["auth off"]
    for name, value in rps.items():
        print(f"  {name:14s} {value:8.0f} req/s   {value / off:6.1%} of auth off")


if __name__ == "__main__":
    main()
