"""What the parts of a session need from the gateway and from their session.

The session parts (fan-out, relay, definitions, request processing) depend on these two
protocols, never on `GatewayCore` or `Session` themselves: the core creates sessions and
a session composes its parts, so the imports only ever point downwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mcpwarden.admin.admission import Admission
    from mcpwarden.auth.upstream import UpstreamAuth
    from mcpwarden.config import GatewayConfig
    from mcpwarden.gateway.pipeline import Pipeline
    from mcpwarden.gateway.quota import InFlightQuota
    from mcpwarden.gateway.quotas import Quotas
    from mcpwarden.gateway.shared_stdio import SharedStdio
    from mcpwarden.gateway.upstream.pools import UpstreamPools
    from mcpwarden.types import Principal


class GatewayServices(Protocol):
    """The gateway-wide services a session uses (implemented by `GatewayCore`)."""

    @property
    def config(self) -> GatewayConfig: ...

    @property
    def pipeline(self) -> Pipeline: ...

    @property
    def http_client(self) -> UpstreamPools: ...

    @property
    def upstream_auth(self) -> Mapping[str, UpstreamAuth]: ...

    @property
    def quotas(self) -> Quotas: ...

    @property
    def shared_stdio(self) -> SharedStdio: ...

    @property
    def in_flight(self) -> InFlightQuota: ...

    @property
    def admission(self) -> Admission: ...

    def audit_event(self, event: str, **fields: Any) -> None: ...

    def audit_request(self, *, arguments: Any = None, **fields: Any) -> None: ...

    async def audit_request_start(self, **fields: Any) -> None: ...


class SessionView(Protocol):
    """The identity and settings of one client session, shared by all of its parts."""

    core: GatewayServices
    id: str
    principal: Principal
    subject_token: str | None
    upstream_names: list[str]
    aggregate: bool
    transport: str
    state: dict[str, Any]
    protocol_version: str | None
    closed: bool

    def touch(self) -> None:
        """Mark the session active now (its idle timeout counts from here)."""
