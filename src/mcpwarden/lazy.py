"""Package re-exports that import their module only when first used.

A package `__init__` that re-exports its submodules' names makes `import pkg.small` pay for
`pkg.big` too: `mcpwarden.config` needs only `mcpwarden.auth.config`, yet importing it ran
`mcpwarden/auth/__init__.py`, which pulled in httpx and joserfc, and the content policy's
one `Literal` from `detect.text.spotlight` pulled in numpy. Every CLI command reads the
config model, so `--help` paid for both. With `lazy_exports` the package keeps its public
names (`from mcpwarden.auth import TokenValidator` still works) and pays for a submodule only
when one of its names is used. Type checkers see the names through an `if TYPE_CHECKING:`
import block kept beside the table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package` that resolves each name of `table` (name -> the
    submodule defining it) on first access and caches it in the package namespace."""
    import sys

    def __getattr__(name: str) -> Any:
        module_name = table.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_name), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
