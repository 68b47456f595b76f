"""Argument constraints, compiled once and checked on every call.

Each check is exact about JSON types: `true` is not the number 1, the string "5" is
not a number, NaN is in no range. Regexes run on re2 (linear time, no backtracking),
always as a full match so a pattern cannot be satisfied by a harmless substring.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import re2

from mcpwarden.policy.model import ArgumentConstraint
from mcpwarden.policy.paths import PathPrefix

_PREVIEW = 60


@dataclass(frozen=True, slots=True)
class Violation:
    """One argument that failed one condition of a rule."""

    argument: str
    constraint: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"argument": self.argument, "constraint": self.constraint, "message": self.message}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "array"
    return "object"


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 3] + "..."


class CompiledConstraint:
    """The checks for one argument of one rule, in cheapest-first order."""

    __slots__ = ("enum", "max", "max_length", "min", "name", "optional", "path", "regex", "regex_text")

    def __init__(self, name: str, spec: ArgumentConstraint) -> None:
        self.name = name
        self.optional = spec.optional
        self.enum: tuple[tuple[str, Any], ...] | None = (
            tuple((_json_type(v), v) for v in spec.enum) if spec.enum is not None else None
        )
        self.max_length = spec.max_length
        self.min = spec.min
        self.max = spec.max
        self.regex_text = spec.regex
        self.regex: re2._Regexp[str] | None = None
        if spec.regex is not None:
            try:
                self.regex = re2.compile(spec.regex)
            except re2.error as exc:
                raise ValueError(f"argument {name!r}: invalid regex {spec.regex!r}: {exc}") from None
        self.path: PathPrefix | None = (
            PathPrefix.compile(spec.path_prefix, spec.relative_to, spec.resolve_symlinks_under)
            if spec.path_prefix is not None
            else None
        )

    def _fail(self, constraint: str, message: str) -> Violation:
        return Violation(self.name, constraint, message)

    def check(self, arguments: Mapping[str, Any]) -> Violation | None:
        if self.name not in arguments:
            if self.optional:
                return None
            return self._fail("required", "argument is required by this rule")
        value = arguments[self.name]
        if self.enum is not None:
            kind = _json_type(value)
            if not any(k == kind and v == value for k, v in self.enum):
                allowed = ", ".join(_preview(v) for _, v in self.enum)
                return self._fail("enum", f"{_preview(value)} is not one of {allowed}")
        if self.max_length is not None:
            if not isinstance(value, str | list):
                return self._fail("max_length", f"expected a string or array, got {_json_type(value)}")
            if len(value) > self.max_length:
                return self._fail("max_length", f"length {len(value)} exceeds {self.max_length}")
        if self.min is not None or self.max is not None:
            if _json_type(value) != "number" or not math.isfinite(value):
                return self._fail("range", f"expected a finite number, got {_preview(value)}")
            if self.min is not None and value < self.min:
                return self._fail("range", f"{value} is below the minimum {self.min:g}")
            if self.max is not None and value > self.max:
                return self._fail("range", f"{value} is above the maximum {self.max:g}")
        if self.regex is not None:
            if not isinstance(value, str):
                return self._fail("regex", f"expected a string, got {_json_type(value)}")
            if self.regex.fullmatch(value) is None:
                return self._fail("regex", f"{_preview(value)} does not match {self.regex_text!r}")
        if self.path is not None:
            if not isinstance(value, str):
                return self._fail("path_prefix", f"expected a string, got {_json_type(value)}")
            problem = self.path.check(value)
            if problem is not None:
                return self._fail("path_prefix", f"{_preview(value)}: {problem}")
        return None


class ArgumentChecker:
    """All constraints of one rule; `strict` also rejects arguments the rule does not name."""

    __slots__ = ("constraints", "names", "strict")

    def __init__(self, specs: Mapping[str, ArgumentConstraint], strict: bool) -> None:
        self.constraints = tuple(CompiledConstraint(n, s) for n, s in specs.items())
        self.names = frozenset(specs)
        self.strict = strict

    def __bool__(self) -> bool:
        return bool(self.constraints) or self.strict

    def check(self, arguments: Mapping[str, Any]) -> list[Violation]:
        out: list[Violation] = []
        for constraint in self.constraints:
            violation = constraint.check(arguments)
            if violation is not None:
                out.append(violation)
        if self.strict:
            out.extend(
                Violation(name, "strict_arguments", "argument not allowed by this rule")
                for name in sorted(arguments)
                if name not in self.names
            )
        return out
