"""The store interface the guards and the CLI program against.

A pin row holds the last *approved* definition of one (upstream, kind, name) in `hash` /
`definition` (or, before any approval, the first definition seen), and at most one
*pending* definition that differs from it and waits for review. `status` describes the row
as a whole: `approved` (nothing waits), `quarantined` (a definition waits for review) or
`rejected` (the waiting definition was refused). A definition is callable only when its
hash equals `hash` and `approved_at` is set.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal

PinStatus = Literal["approved", "quarantined", "rejected"]
PIN_STATUSES: tuple[PinStatus, ...] = ("approved", "quarantined", "rejected")


class StoreError(Exception):
    """A store operation that cannot be carried out as asked (unknown pin, stale hash)."""


class StoreUnavailable(StoreError):
    """The backend cannot be reached: decisions that need it fail closed with this message."""


@dataclass(frozen=True, slots=True)
class Pin:
    upstream: str
    kind: str
    name: str
    hash: str
    status: PinStatus
    definition: dict[str, Any]
    approved_by: str | None = None
    approved_at: str | None = None
    first_seen: str | None = None
    pending_hash: str | None = None
    pending_definition: dict[str, Any] | None = None
    pending_diff: str | None = None
    pending_since: str | None = None

    @property
    def is_approved(self) -> bool:
        """True when `hash` is an approved definition (it may still have a change waiting)."""
        return self.approved_at is not None

    @property
    def candidate_hash(self) -> str:
        """The hash a reviewer decides on: the pending one if any, else the pinned one."""
        return self.pending_hash or self.hash

    def allows(self, live_hash: str) -> bool:
        """Whether a definition with `live_hash` may be listed and called."""
        return self.is_approved and live_hash == self.hash

    def to_dict(self) -> dict[str, Any]:
        return {
            "upstream": self.upstream,
            "kind": self.kind,
            "name": self.name,
            "hash": self.hash,
            "status": self.status,
            "definition": self.definition,
            "approved_by": self.approved_by,
            "approved_at": self.approved_at,
            "first_seen": self.first_seen,
            "pending_hash": self.pending_hash,
            "pending_definition": self.pending_definition,
            "pending_diff": self.pending_diff,
            "pending_since": self.pending_since,
        }


class Store(ABC):
    """Pins today; other features add their own methods and tables."""

    @abstractmethod
    def revision(self) -> tuple[int, ...]:
        """A value that changes whenever any writer (this process or another) committed.

        Cheap enough to call per request, so callers can cache what they read and re-read
        only when it changed.
        """

    @abstractmethod
    def get_pin(self, upstream: str, kind: str, name: str) -> Pin | None: ...

    @abstractmethod
    def list_pins(self, upstream: str | None = None, *, kind: str | None = None) -> list[Pin]: ...

    @abstractmethod
    def put_pin(self, pin: Pin) -> None:
        """Insert or replace a whole pin row (used by import and by first-seen pinning)."""

    @abstractmethod
    def new_pin(
        self,
        upstream: str,
        kind: str,
        name: str,
        definition: dict[str, Any],
        hash_: str,
        *,
        status: PinStatus,
        approved_by: str | None = None,
    ) -> Pin:
        """Create the row for a definition seen for the first time; returns the existing row if any."""

    @abstractmethod
    def set_status(self, upstream: str, kind: str, name: str, status: PinStatus, by: str | None) -> None:
        """Change only the status of an existing row."""

    @abstractmethod
    def record_pending(
        self, upstream: str, kind: str, name: str, definition: dict[str, Any], hash_: str, diff: str
    ) -> bool:
        """Queue a changed definition for review; returns False when it was already queued."""

    @abstractmethod
    def approve(
        self, upstream: str, kind: str, name: str, by: str, *, expected_hash: str | None = None
    ) -> Pin:
        """Approve the candidate definition; `expected_hash` guards against approving a newer change."""

    @abstractmethod
    def reject(self, upstream: str, kind: str, name: str, by: str) -> Pin: ...

    @abstractmethod
    def delete_pin(self, upstream: str, kind: str, name: str) -> bool: ...

    def alarm(self) -> str | None:
        """Why pin decisions must fail closed (the store's integrity is in doubt), or None.

        Stores that cannot tell return None; see `mcpwarden.store.integrity`.
        """
        return None

    @abstractmethod
    def close(self) -> None: ...
