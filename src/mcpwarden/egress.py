"""Where the gateway may connect on an HTTP upstream's behalf (server-side request forgery).

The gateway sits inside a network that clients cannot reach directly, so every address it
connects to is a decision: a compromised upstream (or a DNS record it controls) must not be
able to aim the gateway at a metadata service, a database port or another internal host.

Two rules, checked on the addresses a name resolves to at the moment of connecting (not
once at start, which a short-TTL DNS record could defeat by rebinding):

* Addresses that are private, loopback, link-local, shared (CGNAT), unique-local, reserved,
  multicast or unspecified are refused unless the upstream sets `allow_private: true`, or an
  `egress` entry names that address or network explicitly.
* With a non-empty `egress` list, the host and port connected to must match an entry
  (`host:port`, `host:*`, `10.1.2.3:8080`, `10.1.0.0/16:443`, `[::1]:*`). The upstream's own
  URL is checked against the same list when the config is loaded.

Redirects are never followed (see `gateway/upstream/http.py`), so these checks cover every
connection; `gateway/upstream/resolver.py` applies them when aiohttp resolves a name.
Pure and stdlib-only, so the config can validate entries without importing the gateway.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Ranges that the stdlib's `is_private` does not all cover (100.64/10 is shared address
# space, not private, but it is just as internal).
_EXTRA_INTERNAL: tuple[IpNetwork, ...] = (
    ipaddress.ip_network("100.64.0.0/10"),
    ipaddress.ip_network("192.0.0.0/24"),
    ipaddress.ip_network("198.18.0.0/15"),
)


class EgressDenied(OSError):
    """A connection the upstream's egress policy forbids; the message names the setting."""


def is_internal(addr: IpAddress) -> bool:
    """True for every address that is not a plain public unicast address."""
    if isinstance(addr, ipaddress.IPv6Address):
        mapped = addr.ipv4_mapped or addr.sixtofour
        if mapped is not None:
            return is_internal(mapped)
    return (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or (isinstance(addr, ipaddress.IPv4Address) and any(addr in net for net in _EXTRA_INTERNAL))
        or (isinstance(addr, ipaddress.IPv6Address) and addr.is_site_local)
    )


@dataclass(frozen=True, slots=True)
class EgressRule:
    """One `egress` entry: a DNS name, an address or a network, and a port or any port."""

    host: str | None
    network: IpNetwork | None
    port: int | None

    @classmethod
    def parse(cls, entry: str) -> EgressRule:
        text = entry.strip()
        if text.startswith("["):
            host, sep, port = text[1:].partition("]:")
            if not sep:
                raise ValueError(f"egress entry {entry!r} must be [ipv6]:port")
        else:
            host, sep, port = text.rpartition(":")
            if not sep or not host:
                raise ValueError(f"egress entry {entry!r} must be host:port (port may be *)")
        if port == "*":
            port_num = None
        elif port.isdigit() and 0 < int(port) < 65536:
            port_num = int(port)
        else:
            raise ValueError(f"egress entry {entry!r}: port must be 1-65535 or *")
        try:
            return cls(None, ipaddress.ip_network(host, strict=False), port_num)
        except ValueError:
            pass
        name = host.lower().rstrip(".")
        if not name or any(c.isspace() or c in "/@" for c in name):
            raise ValueError(f"egress entry {entry!r}: not a host name, address or network")
        return cls(name, None, port_num)

    def matches_port(self, port: int) -> bool:
        return self.port is None or self.port == port

    def matches_name(self, host: str, port: int) -> bool:
        return self.host is not None and self.host == host.lower().rstrip(".") and self.matches_port(port)

    def matches_address(self, addr: IpAddress, port: int) -> bool:
        return self.network is not None and addr in self.network and self.matches_port(port)


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """One upstream's rules; `check` raises EgressDenied with a message an operator can act on."""

    upstream: str
    rules: tuple[EgressRule, ...] = ()
    allow_private: bool = False

    @classmethod
    def build(cls, upstream: str, entries: list[str], allow_private: bool) -> EgressPolicy:
        return cls(upstream, tuple(EgressRule.parse(e) for e in entries), allow_private)

    def check_destination(self, host: str, port: int) -> None:
        """The name and port before resolving (an address literal is checked fully here)."""
        literal = _literal(host)
        if literal is not None:
            self.check_address(host, literal, port)
            return
        if self.rules and not any(r.matches_name(host, port) or r.network is not None for r in self.rules):
            raise EgressDenied(self._not_listed(f"{host}:{port}"))

    def check_address(self, host: str, addr: IpAddress, port: int) -> None:
        """One resolved address of `host`: listed (when there is a list) and not internal."""
        named = any(r.matches_name(host, port) for r in self.rules)
        explicit = any(r.matches_address(addr, port) for r in self.rules)
        if self.rules and not (named or explicit):
            raise EgressDenied(self._not_listed(f"{host}:{port} ({addr})"))
        if is_internal(addr) and not (self.allow_private or explicit):
            raise EgressDenied(
                f"upstream {self.upstream!r}: {host}:{port} "
                f"{'is' if _literal(host) == addr else 'resolves to'} the internal address {addr}; "
                f"set `allow_private: true` on upstreams.{self.upstream} (or list {addr} in its "
                "`egress`) if this upstream really lives there"
            )

    def check_url(self, url: str) -> None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        self.check_destination(host, port)

    def _not_listed(self, what: str) -> str:
        return f"upstream {self.upstream!r}: {what} is not in upstreams.{self.upstream}.egress"


def _literal(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
