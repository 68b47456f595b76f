"""Reading roles, scopes and identities out of token claims at configurable paths.

Identity providers disagree on where they put things: Entra ID uses `scp` (a space
separated string) and `roles`, Keycloak nests roles in `realm_access.roles`, Auth0 puts
RBAC grants in `permissions` and custom claims under URL-like names containing dots.
Paths are therefore resolved by trying the literal key first and only then walking
dot-separated segments; `*` matches every value of an object.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def resolve_claim(claims: Mapping[str, Any], path: str) -> list[Any]:
    """Every value found at `path`; an empty list when nothing is there."""
    if path in claims:
        return [claims[path]]
    head, sep, rest = path.partition(".")
    if not sep:
        return []
    if head == "*":
        found: list[Any] = []
        for value in claims.values():
            if isinstance(value, Mapping):
                found.extend(resolve_claim(value, rest))
        return found
    # A dotted key may itself contain dots (Auth0 namespaces): try longer literal heads.
    for cut in range(len(path) - 1, 0, -1):
        if path[cut] != ".":
            continue
        key = path[:cut]
        if key in claims and isinstance(claims[key], Mapping):
            return resolve_claim(claims[key], path[cut + 1 :])
    return []


def _strings(value: Any, *, split: bool) -> list[str]:
    if isinstance(value, str):
        return value.split() if split else [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str) and item]
    return []


def claim_strings(claims: Mapping[str, Any], paths: Iterable[str], *, split: bool = False) -> frozenset[str]:
    """The union of string values at `paths`; lists are flattened, other types ignored."""
    out: set[str] = set()
    for path in paths:
        for value in resolve_claim(claims, path):
            out.update(_strings(value, split=split))
    return frozenset(out)


def scopes_from_claims(claims: Mapping[str, Any], paths: Iterable[str]) -> frozenset[str]:
    """Scopes, whether sent as a space-separated string (`scope`, `scp`) or a list."""
    return claim_strings(claims, paths, split=True)


def roles_from_claims(claims: Mapping[str, Any], paths: Iterable[str]) -> frozenset[str]:
    """Roles from every configured path; a role string is taken whole, never split."""
    return claim_strings(claims, paths, split=False)


def first_string(claims: Mapping[str, Any], paths: Iterable[str]) -> str | None:
    """The first non-empty string claim among `paths` (for subject and client id)."""
    for path in paths:
        for value in resolve_claim(claims, path):
            if isinstance(value, str) and value:
                return value
    return None
