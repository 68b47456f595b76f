"""Shared builders for policy tests: a policy from a dict, a principal from claims."""

from __future__ import annotations

from typing import Any

from mcpwarden.policy import PolicyEngine, parse_policy
from mcpwarden.types import Principal


def engine_for(data: dict[str, Any]) -> PolicyEngine:
    return PolicyEngine(parse_policy(data))


def principal(**claims: Any) -> Principal:
    return Principal(subject=str(claims.get("sub", "user")), issuer="https://idp.test", claims=claims)


ROLES_FROM_ROLES_CLAIM = {"claims": [{"path": "roles"}]}
