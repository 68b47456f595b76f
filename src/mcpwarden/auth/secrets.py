"""Resolving secret references (`env:NAME`, `file:PATH`) at the moment they are needed.

Resolution happens on every use rather than at start-up so that a rotated file or
environment value takes effect without a restart, and so that secrets are not kept in
long-lived config objects that might be printed.
"""

from __future__ import annotations

import os
from pathlib import Path


class SecretError(Exception):
    """A secret reference could not be resolved; the message never contains the value."""


def resolve_secret(ref: str) -> str:
    """The secret a reference points to, stripped of one trailing newline."""
    scheme, _, rest = ref.partition(":")
    if scheme == "env":
        value = os.environ.get(rest)
        if value is None:
            raise SecretError(f"environment variable {rest!r} is not set")
    elif scheme == "file":
        try:
            value = Path(rest).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise SecretError(f"cannot read secret file {rest!r}: {exc.strerror}") from None
    else:
        raise SecretError(f"unsupported secret reference scheme {scheme!r}")
    value = value.removesuffix("\n").removesuffix("\r")
    if not value:
        raise SecretError(f"secret {ref!r} is empty")
    return value
