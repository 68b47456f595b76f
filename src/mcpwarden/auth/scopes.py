"""Scope checks and which scopes a 403 `insufficient_scope` challenge names.

MCP 2025-11-25 recommends challenging with the scopes already granted that are still
relevant plus the new ones; 2026-07-28 (SEP-2350) says to name only the scopes the
operation needs and lets the client compute the union. Both are offered:
`required` (valid under both revisions, the default) and `recommended`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Literal

from mcpwarden.auth.errors import AuthError

ScopeStrategy = Literal["required", "recommended"]


def challenge_scopes(
    needed: Iterable[str], granted: Collection[str], strategy: ScopeStrategy = "required"
) -> list[str]:
    """The scopes to put in the challenge, in a stable order for a given input."""
    needed_list = list(dict.fromkeys(needed))
    if strategy == "required":
        return needed_list
    # "recommended": the granted scopes come first so the client's next request keeps them.
    return list(dict.fromkeys([*sorted(granted), *needed_list]))


def require_scopes(
    granted: Collection[str], needed: Iterable[str], *, strategy: ScopeStrategy = "required"
) -> None:
    """Raise 403 `insufficient_scope` unless every needed scope was granted."""
    needed_list = list(dict.fromkeys(needed))
    missing = [scope for scope in needed_list if scope not in granted]
    if missing:
        raise AuthError(
            403,
            "insufficient_scope",
            f"this operation needs scope {' '.join(missing)}",
            challenge_scopes(needed_list, granted, strategy),
            reason="scope.insufficient",
        )
