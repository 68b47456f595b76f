"""The aiohttp resolver that applies an upstream's egress policy at connect time.

Checking when connecting, rather than once at start, is what defeats DNS rebinding: a
name that resolved to a public address a minute ago may now answer with 127.0.0.1.
Address literals never reach a resolver, so `HttpConnection` checks its URL itself.
"""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from mcpwarden.egress import EgressPolicy


class EgressResolver(AbstractResolver):
    """Resolves like the default resolver, then refuses if any address breaks the policy.

    Every address is checked, not just the first: a name answering with one public and one
    internal address could otherwise be steered onto the internal one by connection order.
    """

    def __init__(self, policy: EgressPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self._policy.check_destination(host, port)
        results = await self._inner.resolve(host, port, family)
        for item in results:
            self._policy.check_address(host, ipaddress.ip_address(item["host"]), port)
        return results

    async def close(self) -> None:
        await self._inner.close()
