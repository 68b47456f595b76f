"""An SSRF-safe HTTP GET for documents named by untrusted parties (client metadata URLs).

A client id that is a URL makes the gateway fetch whatever that URL names, so the fetch
is a server-side request forgery vector. Every hop is checked before connecting: the
name is resolved once, each address must be a public unicast address (the ranges of
`mcpwarden.egress.is_internal`) unless an explicit `allow` entry names it, and the
connection goes to the checked address (the name is kept for Host and TLS SNI) so a DNS
answer cannot change between check and connect. Redirects are followed by hand, a
bounded number of times, each target re-validated; bodies are capped in size and the
whole fetch in time.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from mcpwarden.egress import EgressRule, IpAddress, is_internal


class FetchRefused(Exception):
    """The URL may not be fetched, or the fetch failed; the message names why."""


@dataclass(frozen=True, slots=True)
class FetchLimits:
    timeout_s: float = 5.0
    max_bytes: int = 16_384
    max_redirects: int = 2
    require_https: bool = True
    allow: tuple[EgressRule, ...] = ()


async def _resolve(host: str, port: int) -> list[IpAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise FetchRefused(f"cannot resolve {host}: {exc.strerror or exc}") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


async def checked_target(url: str, limits: FetchLimits) -> tuple[str, str, IpAddress]:
    """(URL to connect to, Host header, address) after every SSRF check on `url`."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or (limits.require_https and parts.scheme != "https"):
        raise FetchRefused(f"only https URLs may be fetched, not {parts.scheme or 'a relative URL'}")
    if parts.username or parts.password:
        raise FetchRefused("URLs with credentials are refused")
    host = parts.hostname or ""
    if not host:
        raise FetchRefused("URL has no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await _resolve(host, port)
    if not addresses:
        raise FetchRefused(f"{host} resolves to no address")
    for addr in addresses:
        allowed = any(r.matches_address(addr, port) or r.matches_name(host, port) for r in limits.allow)
        if is_internal(addr) and not allowed:
            raise FetchRefused(f"{host}:{port} is the internal address {addr}")
    addr = addresses[0]
    literal = f"[{addr}]" if isinstance(addr, ipaddress.IPv6Address) else str(addr)
    netloc = f"{literal}:{port}"
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = parts.netloc.rsplit("@", 1)[-1]
    return pinned, host_header, addr


async def fetch_json_document(url: str, limits: FetchLimits, client: httpx.AsyncClient) -> bytes:
    """The body of `url` (200, JSON content type), after the checks above on every hop."""
    try:
        async with asyncio.timeout(limits.timeout_s):
            current = url
            for _ in range(limits.max_redirects + 1):
                pinned, host_header, _addr = await checked_target(current, limits)
                hostname = urlsplit(current).hostname or ""
                request = client.build_request(
                    "GET",
                    pinned,
                    headers={"host": host_header, "accept": "application/json"},
                    extensions={"sni_hostname": hostname} if current.startswith("https:") else {},
                )
                response = await client.send(request, stream=True)
                try:
                    if response.status_code in (301, 302, 303, 307, 308):
                        location = response.headers.get("location")
                        if not location:
                            raise FetchRefused("redirect without Location")
                        current = urljoin(current, location)
                        continue
                    if response.status_code != 200:
                        raise FetchRefused(f"metadata document answered {response.status_code}")
                    ctype = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
                    if ctype != "application/json" and not ctype.endswith("+json"):
                        raise FetchRefused(f"metadata document has content type {ctype!r}, not JSON")
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body.extend(chunk)
                        if len(body) > limits.max_bytes:
                            raise FetchRefused(f"metadata document exceeds {limits.max_bytes} bytes")
                    return bytes(body)
                finally:
                    await response.aclose()
            raise FetchRefused(f"more than {limits.max_redirects} redirects")
    except TimeoutError:
        raise FetchRefused(f"metadata document not fetched within {limits.timeout_s:g}s") from None
    except httpx.HTTPError as exc:
        raise FetchRefused(f"metadata fetch failed: {type(exc).__name__}") from None
