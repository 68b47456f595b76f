"""Turning token claims into role names.

Identity providers put authorization data in different places and shapes: Entra ID
uses `roles` (app roles, a list), `scp` (delegated scopes, one space-separated string)
and `groups` (object ids); Keycloak nests realm roles under `realm_access.roles` and
client roles under `resource_access.<client>.roles`; plain OAuth servers send `scope`.
The extractor is compiled once from the policy's `roles:` section and reads each
configured path without ever failing on an unexpected shape: a claim of the wrong
type simply contributes no roles, so a malformed token can only lose privileges.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcpwarden.policy.model import RolesConfig, RoleSource


class _CompiledSource:
    __slots__ = ("keys", "map", "only_mapped", "prefix")

    def __init__(self, source: RoleSource) -> None:
        self.keys = source.keys
        self.map: dict[str, tuple[str, ...]] = {
            k: (v,) if isinstance(v, str) else tuple(v) for k, v in source.map.items()
        }
        self.only_mapped = source.only_mapped
        self.prefix = source.prefix

    def values(self, claims: Mapping[str, Any]) -> list[str]:
        node: Any = claims
        for key in self.keys:
            if not isinstance(node, Mapping):
                return []
            node = node.get(key)
            if node is None:
                return []
        if isinstance(node, str):
            return node.split()
        if isinstance(node, list):
            return [item for item in node if isinstance(item, str)]
        return []

    def roles(self, claims: Mapping[str, Any], out: set[str]) -> None:
        for value in self.values(claims):
            mapped = self.map.get(value)
            if mapped is not None:
                out.update(self.prefix + role for role in mapped)
            elif not self.only_mapped:
                out.add(self.prefix + value)


class RoleExtractor:
    """Compiled form of `RolesConfig`: `roles(claims)` returns the caller's role set."""

    __slots__ = ("always", "sources")

    def __init__(self, config: RolesConfig) -> None:
        self.sources = tuple(_CompiledSource(s) for s in config.claims)
        self.always = frozenset(config.always)

    def roles(self, claims: Mapping[str, Any]) -> frozenset[str]:
        out: set[str] = set(self.always)
        for source in self.sources:
            source.roles(claims, out)
        return frozenset(out)
