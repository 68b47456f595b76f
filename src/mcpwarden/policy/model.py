"""The policy file: roles from claims, allow and deny rules, argument constraints.

This is the YAML front users write; `mcpwarden.policy.engine` compiles it once into
the structures the hot path uses. Validation is strict (unknown keys are errors) so a
typo such as `tool:` for `tools:` fails loudly instead of silently granting nothing or,
worse, granting more than intended.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Kind = Literal["tool", "resource", "prompt", "method", "upstream"]
KINDS: tuple[Kind, ...] = ("tool", "resource", "prompt", "method", "upstream")

# Methods the policy decides from other rule keys: calls by their target (`tools`,
# `resources`, `prompts`; completions by what `ref` names, subscriptions by the URI), and
# the session-level methods by access to the upstream. A `methods:` grant never applies to
# them, so naming one there is a mistake the loader reports.
TARGET_METHODS = frozenset(
    {
        "tools/call",
        "resources/read",
        "prompts/get",
        "completion/complete",
        "resources/subscribe",
        "resources/unsubscribe",
    }
)
SESSION_METHODS = frozenset(
    {
        "initialize",
        "ping",
        "tools/list",
        "prompts/list",
        "resources/list",
        "resources/templates/list",
        "logging/setLevel",
    }
)
GOVERNED_METHODS = TARGET_METHODS | SESSION_METHODS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoleSource(_Strict):
    """Where roles are read from in the token claims, and how values become roles.

    `path` is a dotted path (`realm_access.roles`) or a list of keys, for claim names
    that themselves contain dots (Keycloak client ids often do). A string value is
    split on whitespace (OAuth `scope`, Entra `scp`); a list is taken item by item.
    `map` renames claim values to roles (one value may give several roles); with
    `only_mapped`, values missing from `map` are dropped, which is what opaque values
    such as Entra group object ids need. `prefix` namespaces the resulting roles so
    that a scope cannot be confused with an app role of the same name.
    """

    path: str | list[str]
    map: dict[str, str | list[str]] = Field(default_factory=dict)
    only_mapped: bool = False
    prefix: str = ""

    @field_validator("path")
    @classmethod
    def _path_not_empty(cls, value: str | list[str]) -> str | list[str]:
        parts = value.split(".") if isinstance(value, str) else value
        if not parts or any(not p for p in parts):
            raise ValueError("claim path must name at least one non-empty key")
        return value

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.path.split(".")) if isinstance(self.path, str) else tuple(self.path)


class RolesConfig(_Strict):
    """How a principal's roles are derived. `always` roles are given to every caller."""

    claims: list[RoleSource] = Field(default_factory=list)
    always: list[str] = Field(default_factory=list)


class ArgumentConstraint(_Strict):
    """Conditions one argument must meet for an allow rule to apply.

    All listed conditions must hold. A constrained argument that is absent is a
    violation unless `optional` is set: deny by default extends to arguments too.
    """

    enum: list[Any] | None = None
    regex: str | None = None
    min: float | None = None
    max: float | None = None
    path_prefix: str | None = None
    relative_to: str | None = None
    resolve_symlinks_under: str | None = None
    max_length: int | None = Field(default=None, ge=0)
    optional: bool = False

    @model_validator(mode="after")
    def _coherent(self) -> ArgumentConstraint:
        checks = (self.enum, self.regex, self.min, self.max, self.path_prefix, self.max_length)
        if all(c is None for c in checks):
            raise ValueError(
                "a constraint needs at least one of enum, regex, min, max, path_prefix, max_length"
            )
        for bound in (self.min, self.max):
            if bound is not None and not math.isfinite(bound):
                raise ValueError("min and max must be finite numbers")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if (self.relative_to or self.resolve_symlinks_under) and not self.path_prefix:
            raise ValueError("relative_to and resolve_symlinks_under need path_prefix")
        return self


class Rule(_Strict):
    """One grant (effect allow) or prohibition (effect deny).

    A rule applies to callers holding any of `roles` (`*` = everyone) on any of
    `upstreams` (globs). `tools` and `prompts` are name globs (`*` = any run of
    characters); `resources` are URI globs (`*` inside one segment, `**` across);
    `methods` are globs of other JSON-RPC methods (vendor extensions, methods of later
    revisions), which are otherwise denied. A rule listing none of the four is
    upstream-level: allowing it lets the caller reach the upstream (initialize, ping,
    lists, logging level) without any capability; denying it closes the upstream.
    Deny rules override allows and carry no argument constraints: they are meant to be
    read at a glance.
    """

    id: str = Field(min_length=1)
    effect: Literal["allow", "deny"] = "allow"
    description: str | None = None
    roles: list[str] = Field(min_length=1)
    upstreams: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    tools: list[str] | None = None
    resources: list[str] | None = None
    prompts: list[str] | None = None
    methods: list[str] | None = None
    arguments: dict[str, ArgumentConstraint] = Field(default_factory=dict)
    strict_arguments: bool = False

    @model_validator(mode="after")
    def _coherent(self) -> Rule:
        if self.effect == "deny" and (self.arguments or self.strict_arguments):
            raise ValueError(f"rule {self.id!r}: deny rules cannot have argument constraints")
        if (self.arguments or self.strict_arguments) and self.tools is None and self.prompts is None:
            raise ValueError(f"rule {self.id!r}: argument constraints need tools or prompts")
        for method in self.methods or ():
            if not method or any(c.isspace() for c in method):
                raise ValueError(f"rule {self.id!r}: method pattern {method!r} is empty or has whitespace")
            if method in GOVERNED_METHODS:
                raise ValueError(
                    f"rule {self.id!r}: {method!r} is decided by tools, resources, prompts or "
                    "upstream access, not by methods"
                )
        return self

    @property
    def upstream_level(self) -> bool:
        return self.tools is None and self.resources is None and self.prompts is None and self.methods is None

    def patterns(self, kind: Kind) -> list[str] | None:
        if kind == "tool":
            return self.tools
        if kind == "resource":
            return self.resources
        if kind == "prompt":
            return self.prompts
        if kind == "method":
            return self.methods
        return None


class PolicyDocument(_Strict):
    """A whole policy file."""

    version: Literal[1] = 1
    roles: RolesConfig = Field(default_factory=RolesConfig)
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> PolicyDocument:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)
        return self


def parse_policy(data: Any) -> PolicyDocument:
    """Validate an already-parsed mapping (e.g. a `policy:` section of the gateway config)."""
    return PolicyDocument.model_validate(data)


def load_policy(path: str | Path) -> PolicyDocument:
    """Read and validate a policy YAML file; raises OSError, yaml.YAMLError or ValidationError."""
    text = Path(path).read_text(encoding="utf-8")
    return parse_policy(yaml.safe_load(text) or {})
